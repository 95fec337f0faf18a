import { createHash } from 'node:crypto';
import { run } from '../exec/run.js';
import type { LayerCache } from '../cache/store.js';
import { layerKey, type LayerKeyParts } from '../cache/key.js';
import { ChrootCommunicator } from '../communicators/chroot.js';
import { applyPlan } from '../families/apply.js';
import type { GuestFile, LayerPlan } from '../families/types.js';
import type { InstallContext, Installer, LayerSource } from '../installers/types.js';

/** Bumped whenever the way layers are made changes, so old layers are not reused by mistake. */
export const LAYER_RECIPE = 1;

export interface LayerRequest {
  source: Omit<LayerSource, 'packages'>;
  /** What every guest of this OS family needs (init, firewall…): the base layer. */
  basePackages: string[];
  /** What the apps need, on top. */
  appPackages: string[];
  /** Files in place before any package is installed (initramfs-tools settings for VM kernels). */
  setupFiles?: GuestFile[];
  /** Work done once per layer rather than per build (locale generation), its key and what it writes. */
  prepare?: LayerPlan;
}

/** A packages layer made but not yet published: what may work on it while its prepare plan runs. */
export interface UnpublishedLayer {
  key: string;
  parts: LayerKeyParts;
  rootfs: string;
  /** The guest directories the prepare plan changes. */
  writes: readonly string[];
  /** Resolves when the prepare plan has run, rejects when it failed. */
  prepared: Promise<void>;
}

export interface LayerResult {
  rootfs: string;
  key: string;
  bytes?: number;
  /** What happened, for the step log and the tests: which layers were found and which were made. */
  events: string[];
  /** How many times a package tool ran; 0 on a warm build. */
  packageToolRuns: number;
}

export interface LayerDeps {
  cache: LayerCache;
  installer: Installer;
  signal: AbortSignal;
  log(line: string): void;
  /**
   * Started once the packages are in, beside a prepare plan that declares what it writes (the
   * archive's layer part, packed while locales are generated); the layer is published when both end.
   */
  besidePrepare?(layer: UnpublishedLayer, signal: AbortSignal): Promise<void>;
}

function parts(req: LayerRequest, packages: readonly string[], prepareKey?: unknown): LayerKeyParts {
  const files = (req.setupFiles ?? []).map((f) => [f.path, f.mode ?? 0o644, createHash('sha256').update(f.content).digest('hex')]);
  const extra = files.length === 0 ? prepareKey : { files, ...(prepareKey === undefined ? {} : { prepare: prepareKey }) };
  return {
    distribution: req.source.os.distribution,
    release: req.source.os.release,
    suite: req.source.os.suite ?? '',
    arch: req.source.os.arch,
    mirror: req.source.mirror,
    packages: [...packages],
    variant: extra === undefined ? 'minbase' : `minbase+${JSON.stringify(extra)}`,
    recipe: LAYER_RECIPE,
  };
}

/**
 * The root file system of a build, from the cache when possible. A missing packages layer is made
 * from the cached base layer when there is one (only the apps are installed); otherwise in one
 * mmdebstrap pass, the fastest way from nothing. The base layer itself is made only once a second
 * package set for the same release shows up: that is when starting from it starts to pay.
 */
export async function ensureLayer(req: LayerRequest, deps: LayerDeps): Promise<LayerResult> {
  const all = [...new Set([...req.basePackages, ...req.appPackages])].sort();
  const baseParts = parts(req, req.basePackages);
  const keyParts = parts(req, all, req.prepare?.key);
  const baseKey = layerKey('base', baseParts);
  const key = layerKey('packages', keyParts);
  const result: LayerResult = { rootfs: '', key, events: [], packageToolRuns: 0 };
  const ctx: InstallContext = { debsDir: deps.cache.debsDir, signal: deps.signal, log: deps.log };
  const source = { ...req.source, ...(req.setupFiles?.length ? { setupFiles: req.setupFiles } : {}) };

  const hit = await deps.cache.get(key);
  if (hit) {
    result.events.push(`packages layer ${key}: cached`);
    return { ...result, rootfs: hit.rootfs, bytes: hit.meta.bytes };
  }

  let base = await deps.cache.get(baseKey);
  if (!base && (await siblingsOf(deps.cache, baseKey)) > 0) {
    const filled = await deps.cache.fill(baseKey, { kind: 'base', parts: baseParts },
      async (rootfs) => {
        result.packageToolRuns++;
        await deps.installer.bootstrap({ ...source, packages: req.basePackages }, rootfs, ctx);
      }, { signal: deps.signal, onWait: () => deps.log(`waiting for another build to make layer ${baseKey}`) });
    base = filled.layer;
    result.events.push(`base layer ${baseKey}: ${filled.filled ? 'made' : 'made by another build'}`);
  } else if (base) {
    result.events.push(`base layer ${baseKey}: cached`);
  }

  const from = base;
  const filled = await deps.cache.fill(key, { kind: 'packages', parts: keyParts, baseKey },
    async (rootfs, signal) => {
      result.packageToolRuns++;
      if (from) {
        await run(['cp', '-a', '--reflink=auto', `${from.rootfs}/.`, rootfs], { signal: deps.signal });
        await deps.installer.install({ ...source, packages: all }, rootfs, req.appPackages, ctx);
      } else {
        await deps.installer.bootstrap({ ...source, packages: all }, rootfs, ctx);
      }
      if (req.prepare) await prepareLayer(req.prepare, { key, parts: keyParts, rootfs }, deps, signal);
    }, { signal: deps.signal, onWait: () => deps.log(`waiting for another build to make layer ${key}`) });
  result.events.push(`packages layer ${key}: ${filled.filled ? (from ? 'made from the base layer' : 'made in one pass') : 'made by another build'}`);
  return { ...result, rootfs: filled.layer.rootfs, bytes: filled.layer.meta.bytes };
}

/**
 * Runs the layer's prepare plan, and beside it what deps.besidePrepare starts when the plan says
 * what it writes. The plan's failure is the layer's; the other work's is only logged, as what it
 * makes is made again later when missing. Both have ended when this returns.
 */
async function prepareLayer(prepare: LayerPlan, layer: Omit<UnpublishedLayer, 'writes' | 'prepared'>, deps: LayerDeps, signal: AbortSignal): Promise<void> {
  const stop = new AbortController();
  const besideSignal = AbortSignal.any([signal, stop.signal]);
  let ended!: (failure?: unknown) => void;
  const prepared = new Promise<void>((resolve, reject) => {
    ended = (failure) => (failure === undefined ? resolve() : reject(failure));
  });
  prepared.catch(() => {});
  const beside = prepare.writes === undefined || deps.besidePrepare === undefined
    ? undefined
    : deps.besidePrepare({ ...layer, writes: prepare.writes, prepared }, besideSignal).catch((err: unknown) => {
      if (!besideSignal.aborted) deps.log(`packing beside the layer's preparation failed (${err instanceof Error ? err.message : String(err)}); it is done again later`);
    });
  try {
    await applyPlan(new ChrootCommunicator(layer.rootfs), prepare.plan, { signal: deps.signal, log: deps.log });
    ended();
  } catch (err) {
    stop.abort(err);
    ended(err ?? new Error('the preparation failed'));
    throw err;
  } finally {
    await beside;
  }
}

async function siblingsOf(cache: LayerCache, baseKey: string): Promise<number> {
  const layers = await cache.list();
  return layers.filter((l) => l.kind === 'packages' && l.meta.baseKey === baseKey).length;
}
