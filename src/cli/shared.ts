import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { TextDecoder } from 'node:util';
import { loadCatalogs } from '../catalog/load.js';
import type { Catalogs } from '../catalog/schema.js';
import { formatDiagnostic, type Diagnostic } from '../diagnostics.js';
import type { IniDocument } from '../config/ini/document.js';
import { parseIni } from '../config/ini/parse.js';
import { configEncoding, decodeConfigBytes } from '../config/ini/decode.js';
import { loadConfig } from '../validate/load.js';
import type { VmConfig } from '../config/model.js';
import type { PlaceIndex } from '../config/normalize.js';
import { dirSources, type ConfigSources } from '../config/sources.js';
import { hasErrors } from '../diagnostics.js';
import { VmgenError } from '../errors.js';
import { findTarget, TARGET_IDS } from '../targets/registry.js';
import type { TargetLimits } from '../targets/limits.js';
import type { ArchiveFormat, Target } from '../targets/types.js';
import type { CliIo } from './io.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads a config file as ConfigObj does (UTF-8, or UTF-16 after its byte order mark); other bytes are a user error. */
export function readConfigText(io: CliIo, file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(io.cwd, file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new VmgenError('VMG_FILE_READ', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`);
  }
  const encoding = configEncoding(bytes);
  try {
    return decodeConfigBytes(bytes).text;
  } catch {
    if (encoding !== 'utf-8') {
      throw new VmgenError('VMG_FILE_READ', `${file} starts with a ${encoding.toUpperCase()} byte order mark but is not ${encoding.toUpperCase()} text`, {
        diagnostics: {
          file,
          items: [{ code: 'INI_ENCODING', severity: 'error', line: 1, column: 1, message: `the file is not ${encoding.toUpperCase()} text (an odd number of bytes, or a broken surrogate pair)`, hint: 'save the config as UTF-8 (iconv -f utf-16 -t utf-8)' }],
        },
      });
    }
    const at = firstInvalidUtf8(bytes);
    throw new VmgenError('VMG_FILE_READ', `${file} is not UTF-8 text`, {
      diagnostics: {
        file,
        items: [{ code: 'INI_ENCODING', severity: 'error', ...at, message: 'this line is not UTF-8 text', hint: 'save the config as UTF-8 (iconv -f latin1 -t utf-8)' }],
      },
    });
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence, or -1. */
function invalidUtf8Offset(raw: Uint8Array): number {
  for (let i = 0; i < raw.length; ) {
    const len = raw[i]! < 0x80 ? 1 : raw[i]! >= 0xc2 && raw[i]! < 0xe0 ? 2 : raw[i]! >= 0xe0 && raw[i]! < 0xf0 ? 3 : raw[i]! >= 0xf0 && raw[i]! < 0xf5 ? 4 : 0;
    if (len === 0 || i + len > raw.length) return i;
    try {
      utf8.decode(raw.subarray(i, i + len));
    } catch {
      return i;
    }
    i += len;
  }
  return -1;
}

/** Line and column (in characters) of the first byte that is not UTF-8. */
function firstInvalidUtf8(bytes: Buffer): { line: number; column: number } {
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl === -1 ? bytes.length : nl;
    const raw = bytes.subarray(start, end);
    const bad = invalidUtf8Offset(raw);
    if (bad !== -1) return { line, column: [...utf8.decode(raw.subarray(0, bad))].length + 1 };
    start = end + 1;
  }
  return { line: 0, column: 0 };
}

export function catalogsFor(io: CliIo, extra: string[] | undefined): Catalogs {
  return loadCatalogs({ extraPaths: extra ?? [], cwd: io.cwd });
}

export function targetFor(id: string | undefined): Target | undefined {
  if (id === undefined) return undefined;
  const t = findTarget(id);
  if (!t) throw new VmgenError('VMG_USAGE', `unknown target '${id}'`, { hint: `targets: ${TARGET_IDS.join(', ')}` });
  return t;
}

export function printDiagnostics(io: CliIo, file: string, diags: readonly Diagnostic[]): void {
  for (const d of diags) io.stderr.write(`${formatDiagnostic(file, d)}\n`);
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Reads and parses a config that a command edits or reads; one that does not parse is reported and refused. */
export function readParsedConfig(io: CliIo, file: string, refusal: string): { text: string; doc: IniDocument } {
  const text = readConfigText(io, file);
  const parsed = parseIni(text);
  if (parsed.diagnostics.length > 0) {
    printDiagnostics(io, file, parsed.diagnostics);
    throw new VmgenError('VMG_CONFIG_INVALID', refusal);
  }
  return { text, doc: parsed.doc };
}

export interface LoadedConfig {
  config: VmConfig;
  /** Where each key is in the file, to report a build's failure at its line. */
  places: PlaceIndex;
  /** The files beside the config, which [files] and [scripts] name. */
  sources: ConfigSources;
}

/**
 * Reads, parses and validates a config for a command that acts on it (build, render, verify):
 * warnings are printed, errors stop the command with every diagnostic at its line. The files it
 * names beside itself are checked too, unless `beside` is false (verify reads only the config).
 */
export function loadConfigBeside(io: CliIo, file: string, catalogs: Catalogs, target?: TargetLimits, beside = true, format?: ArchiveFormat): LoadedConfig {
  const text = readConfigText(io, file);
  const sources = dirSources(dirname(resolve(io.cwd, file)));
  const result = loadConfig(text, { catalogs, ...(target ? { target } : {}), ...(beside ? { sources } : {}), ...(format ? { format } : {}) });
  if (hasErrors(result.diagnostics) || result.config === undefined || result.places === undefined) {
    throw new VmgenError('VMG_CONFIG_INVALID', `${file} does not validate`, { diagnostics: { file, items: result.diagnostics } });
  }
  printDiagnostics(io, file, result.diagnostics);
  return { config: result.config, places: result.places, sources };
}

export function loadValidConfig(io: CliIo, file: string, catalogs: Catalogs, target?: TargetLimits, beside = true): VmConfig {
  return loadConfigBeside(io, file, catalogs, target, beside).config;
}

/** Columns padded to their widest cell, two spaces apart. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd() + '\n').join('');
}

/**
 * For a command group: its subcommands copy these settings when created, and main() sets them on
 * the program only after registration, so without this a bad option would call process.exit and
 * write to the real stderr.
 */
export function routeOutput(group: Command, io: CliIo): void {
  group.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
}
