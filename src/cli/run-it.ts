import type { RunStep } from '../targets/run-commands.js';

/** "Run it:" and the commands, indented, each after a comment saying what it does, so the block pastes into a shell. */
export function runItText(run: readonly RunStep[]): string {
  if (run.length === 0) return '';
  return `Run it:\n${run.map((r) => `  # ${r.what}\n  ${r.command}\n`).join('')}`;
}
