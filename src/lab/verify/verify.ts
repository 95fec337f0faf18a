import { runChecks, verifyChecks } from '../../verify/checks.js';
import type { LabRunContext, LabRuntime } from '../run/runtimes/types.js';
import { planLabChecks, type VerifyMachine } from './plan.js';
import { runLabChecks, type LabCheckResult, type MachineAccess } from './run.js';
import { summarize } from './table.js';

/*
 * `vmgen lab verify`: each machine's own `vmgen verify` checks through the runtime's way in, then
 * the lab's network checks. The machines' own checks run in parallel, one machine's in order.
 */

export interface LabVerifyReport {
  lab: string;
  runtime: string;
  results: LabCheckResult[];
  ok: boolean;
  total: number;
  failed: number;
  skipped: number;
}

export async function verifyRunningLab(ctx: LabRunContext, rt: LabRuntime, signal: AbortSignal): Promise<LabVerifyReport> {
  const access = new Map<string, MachineAccess>();
  try {
    await Promise.all(ctx.manifest.machines.map(async (m) => access.set(m.name, await rt.open(ctx, m, signal))));
    return await checkLab(ctx, rt, access, signal);
  } finally {
    await Promise.all([...access.values()].map((a) => a.close?.()));
  }
}

async function checkLab(ctx: LabRunContext, rt: LabRuntime, access: ReadonlyMap<string, MachineAccess>, signal: AbortSignal): Promise<LabVerifyReport> {
  const machines: VerifyMachine[] = ctx.manifest.machines.map((m) => ({ name: m.name, nics: m.nics, spec: ctx.machines.get(m.name)!.spec }));
  const own = await Promise.all(machines.map(async (m) => {
    ctx.log(`checking ${m.name}`);
    const checks = verifyChecks(m.spec, { booted: true, addressesInGuest: true });
    const results = await runChecks(checks, access.get(m.name)!.comm);
    return results.map((r): LabCheckResult => ({ machine: m.name, peer: '-', kind: 'machine', check: r.name, status: r.ok ? 'ok' : 'FAIL', detail: r.detail }));
  }));
  ctx.log('checking the network');
  const network = await runLabChecks(planLabChecks({ networks: ctx.manifest.networks, machines }), access, ctx.manifest.networks, signal, rt.leasesBy);
  const results = [...own.flat(), ...network];
  const counts = summarize(results);
  return { lab: ctx.manifest.lab.name, runtime: rt.label, results, ok: counts.failed === 0, ...counts };
}
