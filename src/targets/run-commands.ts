import { shellLine } from '../exec/shell-quote.js';
import type { ArchiveFormat, BuildableTarget, RunCommand, RunContext } from './types.js';

/** A run command as it is shown and sent (vmgen build --json, the API, the web page): the text to type. */
export interface RunStep {
  what: string;
  command: string;
}

/** Unpacks a tar (any compression GNU tar recognizes) or zip archive into `dir`, which exists. */
export function unpackArgv(archive: string, format: ArchiveFormat, dir: string): [string, ...string[]] {
  return format === 'zip' ? ['unzip', '-q', archive, '-d', dir] : ['tar', '-xf', archive, '-C', dir];
}

/** A path below `dir`, which may be `~/…` or end in `/`. */
export function under(dir: string, ...parts: string[]): string {
  return [dir.replace(/\/+$/, '') || '/', ...parts].join('/').replace(/^\/\//, '/');
}

/**
 * Stands for the archive in commands made before it exists: the service makes them when it accepts
 * a build, and puts in the archive's name once there is one.
 */
export const ARCHIVE_PLACEHOLDER = '{archive}';

/** Commands as text for a POSIX shell; `archive`, when given, where they have ARCHIVE_PLACEHOLDER. */
export function stepsOf(commands: readonly RunCommand[], archive?: string): RunStep[] {
  return commands.map((c) => ({
    what: c.what,
    command: shellLine(archive === undefined ? c.argv : c.argv.map((w) => (w === ARCHIVE_PLACEHOLDER ? archive : w))),
  }));
}

/** The commands a target gives, as text for a POSIX shell. */
export function runSteps(target: BuildableTarget, ctx: RunContext): RunStep[] {
  return stepsOf(target.commander.run(ctx));
}
