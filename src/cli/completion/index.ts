import type { Command } from 'commander';
import { bashCompletion } from './bash.js';
import { fishCompletion } from './fish.js';
import { completionSpec, type CompletionSpec } from './spec.js';
import { zshCompletion } from './zsh.js';

export { completionSpec, type CompletionSpec } from './spec.js';

/** One renderer per shell: `vmgen completion`'s choices are this table's keys. */
export const SHELL_RENDERERS = {
  bash: bashCompletion,
  zsh: zshCompletion,
  fish: fishCompletion,
} as const satisfies Record<string, (spec: CompletionSpec) => string>;

export type CompletionShell = keyof typeof SHELL_RENDERERS;

export const COMPLETION_SHELLS = Object.keys(SHELL_RENDERERS) as CompletionShell[];

/** The completion script for `shell` of a commander program, from its definition alone. */
export function completionScript(shell: CompletionShell, program: Command): string {
  return SHELL_RENDERERS[shell](completionSpec(program));
}
