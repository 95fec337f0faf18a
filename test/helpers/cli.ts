import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a vmgen or vmgctl command in-process, capturing what it writes. */
export async function run(name: 'vmgen' | 'vmgctl', args: string[], cwd = process.cwd()): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (s: string | Uint8Array) => ((stdout += String(s)), true) },
    stderr: { write: (s: string | Uint8Array) => ((stderr += String(s)), true) },
    cwd,
  };
  const code = await main(name, args, io);
  return { code, stdout, stderr };
}

/** A stack trace or an internal error in user-facing output is a bug. */
export function assertNoStack(text: string): void {
  if (/^\s+at .+:\d+:\d+\)?$/m.test(text) || /internal error/.test(text)) {
    throw new Error(`output has a stack trace or internal error:\n${text}`);
  }
}
