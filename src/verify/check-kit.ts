import type { Communicator } from '../communicators/types.js';
import { EXIT_NOT_FOUND, probe, type ProbeResult } from './probe.js';

/* The small vocabulary every check file shares: building a check, its verdict, and guest output shown safely. */

export interface CheckResult {
  ok: boolean;
  detail: string;
}

export interface Check {
  name: string;
  run(comm: Communicator): Promise<CheckResult>;
}

export function check(name: string, run: (comm: Communicator) => Promise<CheckResult>): Check {
  return { name, run };
}

export const pass = (detail: string): CheckResult => ({ ok: true, detail });
export const fail = (detail: string): CheckResult => ({ ok: false, detail });

const SHOWN_MAX = 160;

/** Guest output in a message: control characters escaped, long values cut, so a report line stays one line. */
export function shown(text: string): string {
  if (text === '') return '(empty)';
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > SHOWN_MAX ? `${clean.slice(0, SHOWN_MAX - 1)}…` : clean;
}

/** Why a command failed, in a few words: its first line of stderr, or its status. */
export function why(r: ProbeResult, program: string): string {
  if (r.exitCode === EXIT_NOT_FOUND) return `${program} is not installed in the guest`;
  const first = r.stderr.trim().split('\n')[0];
  return first ? shown(first) : `${program} exited with ${r.exitCode}`;
}

export type Read = { ok: true; text: string } | { ok: false; detail: string };

export async function readGuestFile(comm: Communicator, path: string): Promise<Read> {
  const r = await probe(comm, ['cat', '--', path]);
  return r.exitCode === 0 ? { ok: true, text: r.stdout } : { ok: false, detail: why(r, 'cat') };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
