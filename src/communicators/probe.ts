import type { Communicator } from './types.js';

/**
 * Runs a command in the guest and returns its exit status with its output. A Communicator's exec
 * rejects on a non-zero status and keeps only stderr then, but a check needs stdout whatever the
 * status: `systemctl is-active` says "activating" or "failed" with the same status 3. So the
 * command runs under a constant wrapper that always succeeds and appends the status on its own
 * line; the command's arguments reach it as "$@", never inside the script.
 */
export const PROBE_SCRIPT = '"$@"; printf \'\\n%s\\n\' "$?"';

/** What sh reports a command it cannot find with: the guest lacks the program. */
export const EXIT_NOT_FOUND = 127;

export interface ProbeResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function probeArgv(argv: readonly string[]): string[] {
  return ['sh', '-c', PROBE_SCRIPT, 'vmgen-probe', ...argv];
}

/** The command a probe argv wraps, or undefined for any other argv. */
export function unwrapProbe(argv: readonly string[]): string[] | undefined {
  const head = probeArgv([]);
  return argv.length > head.length && head.every((a, i) => argv[i] === a) ? argv.slice(head.length) : undefined;
}

/** The wrapper's output for a command's stdout and status: the inverse of parseProbeOutput. */
export function formatProbeOutput(stdout: string, exitCode: number): string {
  return `${stdout}\n${exitCode}\n`;
}

export function parseProbeOutput(output: string): { exitCode: number; stdout: string } {
  const m = /\n(\d+)\n$/.exec(output);
  if (m === null || m[1] === undefined) throw new Error(`the guest's shell did not report an exit status: ${JSON.stringify(output.slice(-80))}`);
  return { exitCode: Number(m[1]), stdout: output.slice(0, m.index) };
}

export async function probe(comm: Communicator, argv: readonly string[], input?: string): Promise<ProbeResult> {
  const r = await comm.exec(probeArgv(argv), input === undefined ? {} : { input });
  return { ...parseProbeOutput(r.stdout), stderr: r.stderr };
}
