import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Catalogs } from '../../catalog/schema.js';
import type { VmConfig } from '../../config/model.js';
import type { ResolvedSpec } from '../../config/resolve.js';
import { findTool, packageOf } from '../../exec/tools.js';
import { run } from '../../exec/run.js';
import { VmgenError } from '../../errors.js';
import { LAB_MANIFEST_FILE, type LabManifest } from '../manifest.js';
import { bridgeArgvs, loopbackUpArgv, netnsAddArgv, netnsDeleteArgv, netnsName, netnsPath } from './netns.js';
import { LAB_RUNTIMES, runtimeById, runtimeForManifest } from './runtimes/registry.js';
import type { LabRunContext, LabRuntime } from './runtimes/types.js';
import { defaultStateDir, loadMachine, manifestOfArchive, readManifest, readRunState, startStages, writeRunState, type RunState } from './state.js';

/*
 * `vmgen lab up` and `vmgen lab down`: the lab's namespace, its bridges and its machines, made in
 * an order and recorded as they are made (run.json), so `down` and a failed `up` remove exactly
 * that, in reverse.
 */

export interface LabRunOptions {
  archive: string;
  /** Where the lab is unpacked and its run record kept; default DEFAULT_LAB_ROOT/NAME. */
  stateDir?: string;
  catalogs: Catalogs;
  signal: AbortSignal;
  log(line: string): void;
}

/** The aside directory for the cgroup tree (see netns.ts); under the state dir, so down removes it. */
const CGROUP_ASIDE = '.cgroup-aside';

export function netnsExists(ns: string): boolean {
  return existsSync(netnsPath(ns));
}

type Machines = LabRunContext['machines'];

function context(manifest: LabManifest, labDir: string, state: RunState, machines: Machines, log: (l: string) => void): LabRunContext {
  const ns = netnsName(manifest.lab.name);
  return {
    manifest, labDir, netns: ns, netnsPath: netnsPath(ns), cgroupAside: join(labDir, CGROUP_ASIDE), machines, log,
    async record(kind, item) {
      state.made[kind] = [...(state.made[kind] ?? []).filter((x) => x !== item), item];
      await writeRunState(labDir, state);
    },
    recorded: (kind) => state.made[kind] ?? [],
  };
}

function runtimeOf(manifest: LabManifest): LabRuntime {
  const rt = runtimeForManifest(manifest);
  if (rt === undefined) throw new VmgenError('VMG_UNSUPPORTED', `vmgen lab up cannot run a ${manifest.target} lab on this host`, { hint: `lab up runs ${LAB_RUNTIMES.map((r) => r.label).join('; ')}` });
  return rt;
}

function checkTools(rt: LabRuntime): void {
  const missing = ['ip', 'tar', ...rt.tools].filter((t) => findTool(t) === undefined);
  if (missing.length > 0) {
    throw new VmgenError('VMG_TOOL_MISSING', `lab up needs ${missing.join(', ')}`, { hint: `install ${[...new Set(missing.map(packageOf))].join(' ')}` });
  }
}

export interface UpResult {
  lab: string;
  stateDir: string;
  netns: string;
  runtime: string;
  machines: string[];
  alreadyUp: boolean;
}

/** Starts a built lab. On a lab that is already up it says so and changes nothing. */
export async function labUp(opts: LabRunOptions): Promise<UpResult> {
  const manifest = await manifestOfArchive(opts.archive, opts.signal);
  const lab = manifest.lab.name;
  const stateDir = resolve(opts.stateDir ?? defaultStateDir(lab));
  const ns = netnsName(lab);
  const existing = await readRunState(stateDir);
  if (existing?.phase === 'up' && netnsExists(ns)) {
    return { lab, stateDir, netns: ns, runtime: existing.runtime, machines: existing.started, alreadyUp: true };
  }
  if (existing !== undefined) {
    throw new VmgenError('VMG_LAB_STATE', `${lab}: an earlier lab up in ${stateDir} did not finish`, { hint: `run vmgen lab down ${opts.archive}${opts.stateDir ? ` --state-dir ${opts.stateDir}` : ''} first` });
  }
  if (netnsExists(ns)) {
    throw new VmgenError('VMG_LAB_STATE', `a lab named ${lab} is already up (namespace ${ns}) from another state directory`, { hint: 'bring it down first, or rename this lab' });
  }
  const rt = runtimeOf(manifest);
  checkTools(rt);
  const ownDir = !existsSync(stateDir) || (await readdir(stateDir)).length === 0;
  if (!ownDir && !existsSync(join(stateDir, LAB_MANIFEST_FILE))) {
    throw new VmgenError('VMG_LAB_STATE', `${stateDir} is not empty and holds no lab`, { hint: 'give an empty or new --state-dir' });
  }
  const state: RunState = { lab, archive: resolve(opts.archive), netns: ns, runtime: rt.id, phase: 'starting', startedAt: new Date().toISOString(), started: [], made: {} };
  await mkdir(join(stateDir, CGROUP_ASIDE), { recursive: true });
  await writeRunState(stateDir, state);
  try {
    // A directory that already holds this very lab (unpacked by hand with tar) is used as it is.
    const unpacked = existsSync(join(stateDir, LAB_MANIFEST_FILE)) ? JSON.stringify(await readManifest(stateDir).catch(() => undefined)) : undefined;
    if (unpacked !== JSON.stringify(manifest)) {
      opts.log(`unpacking ${opts.archive} into ${stateDir}`);
      await run(['tar', '--numeric-owner', '--xattrs', '--xattrs-include=trusted.*', '-xf', state.archive, '-C', stateDir], { signal: opts.signal });
    }
    const machines = new Map<string, { config: VmConfig; spec: ResolvedSpec }>();
    for (const m of manifest.machines) machines.set(m.name, await loadMachine(stateDir, m, opts.catalogs));
    const ctx = context(manifest, stateDir, state, machines, opts.log);
    opts.log(`namespace ${ns}`);
    await run(netnsAddArgv(ns));
    await ctx.record('netns', ns);
    await run(loopbackUpArgv(ns));
    if (rt.makesBridges) {
      for (const net of manifest.networks) {
        for (const argv of bridgeArgvs(ns, net.bridge)) await run(argv);
      }
    }
    await rt.prepare?.(ctx, opts.signal);
    const byName = new Map(manifest.machines.map((m) => [m.name, m]));
    for (const stage of startStages(manifest.machines.map((m) => ({ name: m.name, spec: machines.get(m.name)!.spec })))) {
      opts.log(`starting ${stage.join(', ')}`);
      const machines = stage.map((n) => byName.get(n)!);
      state.started.push(...stage);
      await writeRunState(stateDir, state);
      await rt.start(ctx, machines, opts.signal);
    }
    state.phase = 'up';
    await writeRunState(stateDir, state);
    return { lab, stateDir, netns: ns, runtime: rt.label, machines: state.started, alreadyUp: false };
  } catch (err) {
    opts.log(`lab up failed; removing what it made`);
    await teardown(manifest, stateDir, state, rt, opts.log);
    throw err;
  }
}

/** Stops the machines in reverse start order, then removes the runtime's items, the namespace and the state dir. */
async function teardown(manifest: LabManifest, stateDir: string, state: RunState, rt: LabRuntime, log: (l: string) => void): Promise<void> {
  const ctx = context(manifest, stateDir, state, new Map(), log);
  const byName = new Map(manifest.machines.map((m) => [m.name, m]));
  for (const name of [...state.started].reverse()) {
    const m = byName.get(name);
    if (m !== undefined) await rt.stop(ctx, m);
  }
  await rt.cleanup?.(ctx);
  // Deleting the namespace removes every bridge, veth and tap in it.
  if (netnsExists(state.netns)) await run(netnsDeleteArgv(state.netns));
  await rm(stateDir, { recursive: true, force: true });
}

export interface DownResult {
  lab: string;
  stateDir: string;
  wasUp: boolean;
}

/** Brings a lab down and removes its state dir; on a lab that is not up it says so. */
export async function labDown(opts: Omit<LabRunOptions, 'catalogs'>): Promise<DownResult> {
  const manifest = await manifestOfArchive(opts.archive, opts.signal);
  const stateDir = resolve(opts.stateDir ?? defaultStateDir(manifest.lab.name));
  let state = await readRunState(stateDir);
  if (state === undefined) {
    const ns = netnsName(manifest.lab.name);
    if (!netnsExists(ns)) return { lab: manifest.lab.name, stateDir, wasUp: false };
    // The record is gone (the directory was removed under a running lab) but the namespace is
    // not: stop every machine the archive names and remove the namespace, as far as that goes.
    const rt = runtimeOf(manifest);
    opts.log(`${stateDir} has no record of ${ns}: stopping every machine of the archive`);
    state = { lab: manifest.lab.name, archive: resolve(opts.archive), netns: ns, runtime: rt.id, phase: 'starting', startedAt: '', started: manifest.machines.map((m) => m.name), made: {} };
  }
  const rt = runtimeById(state.runtime);
  if (rt === undefined) throw new VmgenError('VMG_LAB_STATE', `${stateDir}: run.json names a runtime this vmgen does not have (${state.runtime})`);
  const unpacked = existsSync(join(stateDir, LAB_MANIFEST_FILE)) ? await readManifest(stateDir) : manifest;
  await teardown(unpacked, stateDir, state, rt, opts.log);
  return { lab: manifest.lab.name, stateDir, wasUp: true };
}

/** A lab that is up: its manifest, runtime and context, for verify. */
export async function openRunningLab(opts: Omit<LabRunOptions, 'signal'>): Promise<{ ctx: LabRunContext; rt: LabRuntime }> {
  const manifest = await manifestOfArchive(opts.archive);
  const stateDir = resolve(opts.stateDir ?? defaultStateDir(manifest.lab.name));
  const state = await readRunState(stateDir);
  if (state?.phase !== 'up' || !netnsExists(state.netns)) {
    throw new VmgenError('VMG_LAB_STATE', `${manifest.lab.name} is not up${state ? ' (its lab up did not finish)' : ''}`, { hint: `run vmgen lab up ${opts.archive} first` });
  }
  const rt = runtimeById(state.runtime);
  if (rt === undefined) throw new VmgenError('VMG_LAB_STATE', `${stateDir}: run.json names a runtime this vmgen does not have (${state.runtime})`);
  const unpacked = await readManifest(stateDir);
  const machines = new Map<string, { config: VmConfig; spec: ResolvedSpec }>();
  for (const m of unpacked.machines) machines.set(m.name, await loadMachine(stateDir, m, opts.catalogs));
  return { ctx: context(unpacked, stateDir, state, machines, opts.log), rt };
}
