import { Command } from 'commander';
import type { CliIo } from './io.js';
import { COMMANDS, loadVmgctl } from './commands/index.js';
import { registerCompletion } from './commands/completion.js';

export const VERSION = '0.1.0';

export type ProgramName = 'vmgen' | 'vmgctl';

/** Settings that subcommands inherit must be made before they are added. */
function baseProgram(name: string, io: CliIo): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
}

type SetExit = (code: number) => void;

async function buildVmgen(io: CliIo, setExit: SetExit, only?: string): Promise<Command> {
  const program = baseProgram('vmgen', io)
    .description('Generate configured machines (LXC, OpenVZ, OCI, VMware, QEMU/KVM, VirtualBox) from one config file')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)');
  const wanted = COMMANDS.filter((c) => only === undefined || c.name === only);
  for (const register of await Promise.all(wanted.map((c) => c.load()))) register(program, io, setExit);
  if (only !== undefined) return program;
  // Last, and here rather than in COMMANDS: it completes both programs, so it needs their builders,
  // loaded up front because a completion script is made synchronously from the definitions.
  const vmgctl = await buildVmgctl(io, setExit);
  registerCompletion(program, io, { vmgen: () => program, vmgctl: () => vmgctl });
  return program;
}

async function buildVmgctl(io: CliIo, setExit: SetExit): Promise<Command> {
  const program = baseProgram('vmgctl', io).version(VERSION).showHelpAfterError('(run with --help for usage)');
  (await loadVmgctl())(program, io, setExit);
  return program;
}

/**
 * The whole command definition of `vmgen` or `vmgctl`: what main() parses with, and what the
 * completion scripts and the systemd units' tests read. With `only`, vmgen gets just that
 * subcommand, so a run loads no other command's code.
 */
export function buildProgram(name: ProgramName, io: CliIo, setExit: SetExit = () => {}, only?: string): Promise<Command> {
  return name === 'vmgen' ? buildVmgen(io, setExit, only) : buildVmgctl(io, setExit);
}

/** The subcommand a vmgen argv runs, when it names one: only that one need be loaded. */
export function commandOf(argv: readonly string[]): string | undefined {
  const first = argv[0];
  return COMMANDS.some((c) => c.name === first) ? first : undefined;
}
