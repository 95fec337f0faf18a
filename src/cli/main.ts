import { Command, CommanderError } from 'commander';
import { formatDiagnostic } from '../diagnostics.js';
import { VmgenError } from '../errors.js';
import { processIo, type CliIo } from './io.js';
import { COMMANDS, registerVmgctl } from './commands/index.js';

const VERSION = '0.1.0';

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
  return program;
}

function buildVmgctl(io: CliIo, setExit: (code: number) => void): Command {
  const program = baseProgram('vmgctl', io).version(VERSION).showHelpAfterError('(run with --help for usage)');
  registerVmgctl(program, io, setExit);
  return program;
}

/**
 * The one place that turns failures into exit codes: usage errors exit 2, user errors (VmgenError)
 * exit with their code's status and no stack trace, anything else is an internal error (exit 70).
 */
export async function main(name: 'vmgen' | 'vmgctl', argv: string[], io: CliIo = processIo): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number): void => {
    exitCode = Math.max(exitCode, code);
  };
  const program = name === 'vmgen' ? buildVmgen(io, setExit) : buildVmgctl(io, setExit);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof VmgenError && err.diagnostics) {
      for (const d of err.diagnostics.items) io.stderr.write(`${formatDiagnostic(err.diagnostics.file, d)}\n`);
      return err.exitCode;
    }
    if (err instanceof VmgenError) {
      io.stderr.write(`${name}: error: ${err.message}\n`);
      if (err.hint) io.stderr.write(`  hint: ${err.hint}\n`);
      return err.exitCode;
    }
    const msg = err instanceof Error ? err.message : String(err);
    io.stderr.write(`${name}: internal error: ${msg}\n`);
    if (process.env.VMGEN_DEBUG) io.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return 70;
  }
}
