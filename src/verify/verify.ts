import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedSpec } from '../config/resolve.js';
import { run } from '../exec/run.js';
import { VmgenError } from '../errors.js';
import { runChecks, verifyChecks, type NamedResult } from './checks.js';
import { lxcRuntimeFactory } from './runtimes/lxc.js';
import { openvzRuntimeFactory } from './runtimes/nspawn.js';
import { ociRuntimeFactory } from './runtimes/podman.js';
import type { Runtime, RuntimeFactory } from './runtimes/types.js';

/** The runtimes `vmgen verify` can start, one line each, tried in this order on an unpacked archive. */
const UNPACKED_RUNTIMES: readonly RuntimeFactory[] = [lxcRuntimeFactory, openvzRuntimeFactory];

export interface VerifyRequest {
  archive: string;
  spec: ResolvedSpec;
  workDir: string;
  netOverride?: 'empty' | 'veth';
  signal: AbortSignal;
  log(line: string): void;
}

export interface VerifyReport {
  runtime: string;
  notes: string[];
  results: NamedResult[];
  ok: boolean;
}

async function topLevelNames(archive: string, signal: AbortSignal): Promise<Set<string>> {
  const listing = await run(['tar', '-tf', archive], { signal });
  return new Set(listing.stdout.split('\n').map((p) => p.replace(/^\.\//, '').split('/')[0]!).filter(Boolean));
}

async function runtimeFor(req: VerifyRequest): Promise<Runtime> {
  const names = await topLevelNames(req.archive, req.signal);
  if (names.has('oci-layout')) return ociRuntimeFactory.create({ archive: req.archive, dir: '', workDir: req.workDir, spec: req.spec });
  // LXC needs the container directory to be named like the container.
  const dir = join(req.workDir, 'lxc', req.spec.name);
  await mkdir(dir, { recursive: true });
  await run(['tar', '--numeric-owner', '-xf', req.archive, '-C', dir], { signal: req.signal });
  for (const factory of UNPACKED_RUNTIMES) {
    if (await factory.matches(dir)) {
      return factory.create({ archive: req.archive, dir, workDir: req.workDir, spec: req.spec, ...(req.netOverride ? { netOverride: req.netOverride } : {}) });
    }
  }
  throw new VmgenError('VMG_VERIFY', `${req.archive} is not an archive vmgen verify knows (LXC, OpenVZ or OCI)`, { hint: `its top level holds: ${[...names].slice(0, 8).join(', ')}` });
}

/** Starts the guest, checks it from inside against the spec, stops it and removes what it made. */
export async function verifyArchive(req: VerifyRequest): Promise<VerifyReport> {
  await mkdir(req.workDir, { recursive: true });
  let runtime: Runtime | undefined;
  try {
    runtime = await runtimeFor(req);
    req.log(`starting the guest with ${runtime.name}`);
    const comm = await runtime.start(req.signal);
    const checks = verifyChecks(req.spec, { booted: true, addressesInGuest: runtime.addressesInGuest });
    const results = [...(await runChecks(checks, comm)), ...(await runtime.targetChecks(req.spec))];
    return { runtime: runtime.name, notes: runtime.notes, results, ok: results.every((r) => r.ok) };
  } finally {
    await runtime?.stop();
    await rm(req.workDir, { recursive: true, force: true });
  }
}
