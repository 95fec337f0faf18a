import { EXIT_NOT_FOUND, probe, type ProbeResult } from '../communicators/probe.js';
import type { Communicator } from '../communicators/types.js';
import type { ResolvedSpec } from '../config/resolve.js';

/*
 * The small vocabulary every check file shares: building a check, its verdict, and guest output
 * shown safely. It lives with the families, not in verify/, because each family's checks use it
 * and verify/ reads the families, never the other way round.
 */

export interface CheckResult {
  ok: boolean;
  detail: string;
}

export interface Check {
  name: string;
  run(comm: Communicator): Promise<CheckResult>;
}

export interface VerifyOptions {
  /** The guest's init runs: services can be checked active and the firewall loaded. */
  booted: boolean;
  /** False when the runtime, not the guest, holds the addresses; the caller checks those against the target's config. */
  addressesInGuest: boolean;
  /** How long a service may stay "activating" before it counts as not active. */
  activeTimeoutMs?: number;
  pollIntervalMs?: number;
}

/** What differs between OS families, one row each: the package database, the firewall, where the locale is set. */
export interface FamilyChecks {
  packageCheck(pkg: string): Check;
  /** Units the family's configurator always enables (the firewall, the network). */
  services(spec: ResolvedSpec): string[];
  firewallChecks(spec: ResolvedSpec, opts: VerifyOptions): Check[];
  /** The configured services ([web], [dns], [dhcp], [router], [database]), asked as a client would. */
  serviceChecks(spec: ResolvedSpec, opts: VerifyOptions): Check[];
  localeFile: string;
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
