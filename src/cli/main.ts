import { CommanderError } from 'commander';
import { z } from 'zod';
import { formatDiagnostic } from '../diagnostics.js';
import { VmgenError } from '../errors.js';
import { processIo, type CliIo } from './io.js';
import { buildProgram, commandOf } from './program.js';

/**
 * Scripts started on their own that the bundle carries too (src/package-root.ts entryCommand): a
 * forked build process started by the bundled service starts from it, as fast as the CLI, instead
 * of from dist/'s hundreds of modules. Each loads its module, whose top level does the work.
 */
export const ENTRIES: Readonly<Record<string, () => Promise<unknown>>> = {
  'service/runner/child': () => import('../service/runner/child.js'),
};

/**
 * The one place that turns failures into exit codes: usage errors exit 2, user errors (VmgenError)
 * exit with their code's status and no stack trace, anything else is an internal error (exit 70).
 */
export async function main(name: 'vmgen' | 'vmgctl', argv: string[], io: CliIo = processIo): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number): void => {
    exitCode = Math.max(exitCode, code);
  };
  // A command parses a few objects once: compiling each object schema's parser (zod's JIT, with
  // new Function) costs a short run more than it saves. Here the first load of the catalogs and the
  // sample took about half as long without it. The results are the same either way.
  z.config({ jitless: true });
  try {
    const program = await buildProgram(name, io, setExit, name === 'vmgen' ? commandOf(argv) : undefined);
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
