import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TextDecoder } from 'node:util';
import { loadCatalogs } from '../catalog/load.js';
import type { Catalogs } from '../catalog/schema.js';
import { formatDiagnostic, type Diagnostic } from '../diagnostics.js';
import { VmgenError } from '../errors.js';
import { findTarget, TARGET_IDS } from '../targets/registry.js';
import type { TargetLimits } from '../targets/limits.js';
import type { CliIo } from './io.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads a config file as UTF-8, as ConfigObj does; a file that is not UTF-8 is a user error. */
export function readConfigText(io: CliIo, file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(io.cwd, file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new VmgenError('VMG_FILE_READ', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new VmgenError('VMG_FILE_READ', `${file} is not UTF-8 text`, { hint: 'save the config as UTF-8' });
  }
}

export function catalogsFor(io: CliIo, extra: string[] | undefined): Catalogs {
  return loadCatalogs({ extraPaths: extra ?? [], cwd: io.cwd });
}

export function targetFor(id: string | undefined): TargetLimits | undefined {
  if (id === undefined) return undefined;
  const t = findTarget(id);
  if (!t) throw new VmgenError('VMG_USAGE', `unknown target '${id}'`, { hint: `targets: ${TARGET_IDS.join(', ')}` });
  return t;
}

export function printDiagnostics(io: CliIo, file: string, diags: readonly Diagnostic[]): void {
  for (const d of diags) io.stderr.write(`${formatDiagnostic(file, d)}\n`);
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
