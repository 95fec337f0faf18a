import { Command } from 'commander';
import type { CliIo } from './io.js';
import { COMMANDS, registerVmgctl } from './commands/index.js';
import { registerCompletion } from './commands/completion.js';

export const VERSION = '0.1.0';

export type ProgramName = 'vmgen' | 'vmgctl';

/** Settings that subcommands inherit must be made before they are added. */
function baseProgram(name: string, io: CliIo): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
}

function buildVmgen(io: CliIo, setExit: (code: number) => void): Command {
  const program = baseProgram('vmgen', io)
    .description('Generate configured machines (LXC, OpenVZ, OCI, VMware, QEMU/KVM, VirtualBox) from one config file')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)');
  for (const register of COMMANDS) register(program, io, setExit);
  // Last, and here rather than in COMMANDS: it completes both programs, so it needs their builders.
  registerCompletion(program, io, { vmgen: () => program, vmgctl: () => buildVmgctl(io, setExit) });
  return program;
}

function buildVmgctl(io: CliIo, setExit: (code: number) => void): Command {
  const program = baseProgram('vmgctl', io).version(VERSION).showHelpAfterError('(run with --help for usage)');
  registerVmgctl(program, io, setExit);
  return program;
}

/**
 * The whole command definition of `vmgen` or `vmgctl`: what main() parses with, and what the
 * completion scripts and the systemd units' tests read.
 */
export function buildProgram(name: ProgramName, io: CliIo, setExit: (code: number) => void = () => {}): Command {
  return name === 'vmgen' ? buildVmgen(io, setExit) : buildVmgctl(io, setExit);
}
