import { VmgenError } from '../errors.js';
import { CommandError, run } from '../exec/run.js';
import type { InstallContext } from './types.js';

/**
 * Runs an installer's host tool with its stderr sent to the build log line by line, as it comes.
 * A tool that could not be started at all (no exit code, no signal) becomes VMG_TOOL_MISSING with
 * `hint`; every other failure is rethrown for the installer to classify.
 */
export async function runLogged(argv: [string, ...string[]], env: NodeJS.ProcessEnv, ctx: InstallContext, hint: string): Promise<void> {
  let pending = '';
  try {
    await run(argv, {
      signal: ctx.signal, env,
      onStderr: (chunk) => {
        pending += chunk;
        const lines = pending.split(/\r?\n|\r/);
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) ctx.log(line.trim());
      },
    });
  } catch (err) {
    if (!ctx.signal.aborted && err instanceof CommandError && err.exitCode === null && !err.signal) {
      throw new VmgenError('VMG_TOOL_MISSING', `cannot run ${argv[0]}`, { hint, cause: err });
    }
    throw err;
  }
}
