import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { CommandError } from './run.js';

export interface StreamedProcess {
  pid: number | undefined;
  stdin: Writable;
  stdout: Readable;
  /** Resolves when the process exits 0; rejects with a CommandError otherwise. */
  done: Promise<void>;
}

/**
 * Starts a command whose stdin and stdout the caller streams (to hash a layer while it is
 * compressed, say). Argument arrays only, like run().
 */
export function spawnStream(argv: readonly [string, ...string[]], opts: { signal?: AbortSignal; cwd?: string; onStderr?: (chunk: string) => void } = {}): StreamedProcess {
  const child = spawn(argv[0], argv.slice(1), {
    shell: false, stdio: ['pipe', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.signal ? { signal: opts.signal, killSignal: 'SIGKILL' as const } : {}),
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    opts.onStderr?.(s);
  });
  const done = new Promise<void>((resolve, reject) => {
    let failed: unknown;
    child.on('error', (err) => (failed = err));
    child.on('close', (code, signal) => {
      if (code === 0 && !failed) resolve();
      else reject(new CommandError(argv, failed ? null : code, signal, stderr, failed));
    });
  });
  child.stdin.on('error', () => {});
  // Handled here too: a caller that awaits something else first must not see it reported unhandled.
  done.catch(() => {});
  return { pid: child.pid, stdin: child.stdin, stdout: child.stdout, done };
}

