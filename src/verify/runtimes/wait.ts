import type { Communicator } from '../../communicators/types.js';
import { VmgenError } from '../../errors.js';

/**
 * Waits until the guest's systemd has finished booting ("running", or "degraded" when some unit
 * failed: the checks will say which). Gives up after `timeoutMs` with what systemd last said.
 */
export async function waitForBoot(comm: Communicator, signal: AbortSignal, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (signal.aborted) throw signal.reason;
    try {
      const r = await comm.exec(['systemctl', 'is-system-running'], { signal });
      last = r.stdout.trim();
    } catch (err) {
      const out = (err as { stdout?: string; stderr?: string }).stderr ?? '';
      last = out.trim().split('\n').pop() || (err as Error).message;
      // is-system-running exits non-zero for "degraded" and "starting": read its output.
      const m = /^(running|degraded|starting|initializing|maintenance|stopping)$/m.exec(String((err as { stdout?: string }).stdout ?? ''));
      if (m) last = m[1]!;
    }
    if (last === 'running' || last === 'degraded') return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new VmgenError('VMG_VERIFY', `the guest did not finish booting within ${timeoutMs / 1000} s (systemd says: ${last})`);
}
