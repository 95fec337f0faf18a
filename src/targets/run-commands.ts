import { shellLine } from '../exec/shell-quote.js';
import type { ArchiveFormat, RunContext, Target } from './types.js';

/** A run command as it is shown and sent (vmgen build --json, the API, the web page): the text to type. */
export interface RunStep {
  what: string;
  command: string;
}

/** Unpacks a tar (any compression GNU tar recognizes) or zip archive into `dir`, which exists. */
export function unpackArgv(archive: string, format: ArchiveFormat, dir: string): string[] {
  return format === 'zip' ? ['unzip', '-q', archive, '-d', dir] : ['tar', '-xf', archive, '-C', dir];
}

/** A path below `dir`, which may be `~/…` or end in `/`. */
export function under(dir: string, ...parts: string[]): string {
  return [dir.replace(/\/+$/, '') || '/', ...parts].join('/').replace(/^\/\//, '/');
}

/** The commands a target gives, as text for a POSIX shell. */
export function runSteps(target: Target, ctx: RunContext): RunStep[] {
  if (!target.commander) return [];
  return target.commander.run(ctx).map((c) => ({ what: c.what, command: shellLine(c.argv) }));
}
