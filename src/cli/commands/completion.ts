import { Argument, type Command } from 'commander';
import type { CliIo } from '../io.js';
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from '../completion/index.js';

/**
 * `vmgen completion bash|zsh|fish [PROGRAM]`. The programs come from the caller (program.ts),
 * which builds both: this file cannot import that one back.
 */
export function registerCompletion(program: Command, io: CliIo, programs: Readonly<Record<string, () => Command>>): void {
  program
    .command('completion')
    .description('print a shell completion script for vmgen (or vmgctl), made from the commands\' own definitions (README: Commands)')
    .addArgument(new Argument('<shell>', 'the shell').choices(COMPLETION_SHELLS))
    .addArgument(new Argument('[program]', 'the program to complete').choices(Object.keys(programs)).default(program.name()))
    .action((shell: CompletionShell, name: string) => {
      const build = programs[name];
      // The choices above are programs' keys; commander has refused anything else already.
      if (build) io.stdout.write(completionScript(shell, build()));
    });
}
