import { spawn } from 'node:child_process';

/**
 * The one place vmgen starts processes. Commands are argument arrays, never shell strings, so no
 * value from a config can be read by a host shell.
 */
export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Uint8Array;
  signal?: AbortSignal;
  /** Called with each chunk of stderr, for progress and logs. */
  onStderr?: (chunk: string) => void;
  /** Called with each chunk of stdout, for tools whose output belongs in the build log. */
  onStdout?: (chunk: string) => void;
  /** Sent when `signal` aborts; `unshare --kill-child` turns it into SIGKILL for the whole tree. */
  killSignal?: NodeJS.Signals;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;

  constructor(argv: readonly string[], exitCode: number | null, signal: NodeJS.Signals | null, stderr: string, cause?: unknown) {
    const how = signal ? `was killed by ${signal}` : exitCode === null ? 'could not start' : `exited with ${exitCode}`;
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    super(`${argv[0]} ${how}${tail ? `: ${tail}` : ''}`, cause === undefined ? undefined : { cause });
    this.name = 'CommandError';
    this.argv = argv;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderr = stderr;
  }
}

export function run(argv: readonly [string, ...string[]], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new CommandError(argv, null, null, '', opts.signal.reason));
      return;
    }
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd, env: opts.env ?? process.env, shell: false, stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.signal ? { signal: opts.signal, killSignal: opts.killSignal ?? ('SIGTERM' as const) } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      opts.onStdout?.(s);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      opts.onStderr?.(s);
    });
    let failed: unknown;
    child.on('error', (err) => (failed = err));
    child.on('close', (code, signal) => {
      if (code === 0 && !failed) resolve({ stdout, stderr });
      else reject(new CommandError(argv, failed ? null : code, signal, stderr, failed));
    });
    child.stdin.on('error', () => {}); // a command that does not read its input is not an error
    child.stdin.end(opts.input ?? '');
  });
}
