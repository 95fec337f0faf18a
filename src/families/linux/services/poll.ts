import type { Communicator } from '../../../communicators/types.js';
import { sleep, type CheckResult, type VerifyOptions } from '../../check-kit.js';

const SETTLE_TIMEOUT_MS = 20_000;
const SETTLE_INTERVAL_MS = 1_000;

/**
 * Runs a service check until it passes or the guest has had the active-timeout to settle: right
 * after boot a server may be active but still loading its zones or opening its sockets.
 */
export async function untilPass(comm: Communicator, opts: VerifyOptions, run: (comm: Communicator) => Promise<CheckResult>): Promise<CheckResult> {
  const deadline = Date.now() + (opts.activeTimeoutMs ?? SETTLE_TIMEOUT_MS);
  for (;;) {
    const r = await run(comm);
    if (r.ok || Date.now() >= deadline) return r;
    await sleep(opts.pollIntervalMs ?? SETTLE_INTERVAL_MS);
  }
}

/**
 * How long a check that waits for something to start polls, and how often: a server's first
 * start (a database making its files) can take longer than a unit's activation.
 */
export function settleTime(opts: VerifyOptions, defaultTimeoutMs = SETTLE_TIMEOUT_MS): { timeoutMs: number; intervalMs: number } {
  return { timeoutMs: opts.activeTimeoutMs ?? defaultTimeoutMs, intervalMs: opts.pollIntervalMs ?? SETTLE_INTERVAL_MS };
}
