import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { unmountUnder } from '../exec/mounts.js';
import { isLayerKey } from './key.js';
import { isLocked, tryLock } from './lock.js';
import {
  DEL_PREFIX, ensureDirs, exists, LOCK_SUFFIX, readdirOrEmpty, readMeta, TMP_PREFIX, treeBytes, type LayerCache,
} from './store.js';

/*
 * `vmgen cache prune`: what the cache holds that no build needs any more, removed under the same
 * locks fills take, so a prune never pulls a layer from under a build.
 */

export interface PruneOptions {
  /** Every layer whatever its age, and the .deb pool. */
  all?: boolean;
  /** Remove layers not used for this many days; DEFAULT_PRUNE_DAYS if not given. */
  olderThanDays?: number;
  keep?: readonly string[];
  dryRun?: boolean;
}

export type PrunedWhat = 'layer' | 'partial' | 'work' | 'debs';

export interface PrunedItem {
  what: PrunedWhat;
  path: string;
  key?: string;
  bytes: number;
}

export interface SkippedItem {
  what: PrunedWhat;
  path: string;
  key?: string;
  reason: string;
}

export interface PruneResult {
  dryRun: boolean;
  removed: PrunedItem[];
  skipped: SkippedItem[];
  bytesFreed: number;
}

export const DEFAULT_PRUNE_DAYS = 30;
const DAY_MS = 24 * 60 * 60_000;

/** The key a leftover belongs to: a .tmp-<key>-<random> fill, or a layer dir without valid meta. */
async function partialKey(name: string, path: string): Promise<string | undefined> {
  const key = name.startsWith(TMP_PREFIX) ? /^\.tmp-(.+)-[0-9a-f]+$/.exec(name)?.[1] : name;
  if (key === undefined || !isLayerKey(key)) return undefined;
  if (key === name && (await readMeta(path))) return undefined;
  return key;
}

/**
 * Removes layers unused for olderThanDays (all of them with `all`), leftovers of interrupted fills
 * and removals, work dirs of dead builds, and with `all` the .deb pool. A layer whose lock is held
 * is being filled or removed by someone else and is skipped.
 */
export async function pruneCache(cache: LayerCache, opts: PruneOptions = {}): Promise<PruneResult> {
  const dryRun = opts.dryRun === true;
  if (!dryRun && (await exists(cache.layersDir))) await ensureDirs([cache.locksDir]);
  const out: PruneResult = { dryRun, removed: [], skipped: [], bytesFreed: 0 };
  await prunePartials(cache, out);
  await pruneWorkDirs(cache, out);
  await pruneLayers(cache, opts, out);
  if (opts.all) await pruneDebs(cache, out);
  if (!dryRun) await clearStaleLocks(cache);
  out.bytesFreed = out.removed.reduce((sum, item) => sum + item.bytes, 0);
  return out;
}

/** Leftovers: .tmp-* of fills that died (their lock is free), .del-* of interrupted removals, broken layers. */
async function prunePartials(cache: LayerCache, out: PruneResult): Promise<void> {
  for (const name of await readdirOrEmpty(cache.layersDir)) {
    const path = join(cache.layersDir, name);
    if (name.startsWith(DEL_PREFIX)) {
      await removeItem(cache, out, { what: 'partial', path });
      continue;
    }
    const key = await partialKey(name, path);
    if (key !== undefined) await removeUnderLock(cache, out, { what: 'partial', path, key }, 'a build is filling this layer');
  }
}

async function pruneWorkDirs(cache: LayerCache, out: PruneResult): Promise<void> {
  for (const path of await cache.staleWorkDirs()) await removeItem(cache, out, { what: 'work', path });
}

async function pruneLayers(cache: LayerCache, opts: PruneOptions, out: PruneResult): Promise<void> {
  const keep = new Set(opts.keep ?? []);
  const cutoff = Date.now() - (opts.olderThanDays ?? DEFAULT_PRUNE_DAYS) * DAY_MS;
  for (const layer of await cache.list()) {
    if (keep.has(layer.key)) continue;
    if (!opts.all && Date.parse(layer.lastUsed) > cutoff) continue;
    await removeUnderLock(cache, out, { what: 'layer', path: cache.layerDir(layer.key), key: layer.key }, 'a build holds its lock', layer.bytes);
  }
}

/** The .deb pool is in use by any fill in progress, so it goes only when no layer lock is held. */
async function pruneDebs(cache: LayerCache, out: PruneResult): Promise<void> {
  if (!(await exists(cache.debsDir))) return;
  const busy = await Promise.all((await lockPaths(cache)).map((path) => isLocked(path, cache.timing)));
  if (busy.some(Boolean)) {
    out.skipped.push({ what: 'debs', path: cache.debsDir, reason: 'a build is filling a layer' });
    return;
  }
  const bytes = await treeBytes(cache.debsDir);
  if (!out.dryRun) {
    for (const name of await readdirOrEmpty(cache.debsDir)) await rm(join(cache.debsDir, name), { recursive: true, force: true });
  }
  out.removed.push({ what: 'debs', path: cache.debsDir, bytes });
}

/** Lock directories left by killed processes; taking one over and releasing it removes it. */
async function clearStaleLocks(cache: LayerCache): Promise<void> {
  for (const path of await lockPaths(cache)) {
    const lock = await tryLock(path, cache.timing).catch(() => undefined);
    await lock?.release();
  }
}

/** What tryLock takes for each lock directory (<path>.lock) present. */
async function lockPaths(cache: LayerCache): Promise<string[]> {
  const names = (await readdirOrEmpty(cache.locksDir)).filter((n) => n.endsWith(LOCK_SUFFIX));
  return names.map((n) => join(cache.locksDir, n.slice(0, -LOCK_SUFFIX.length)));
}

/** Removes an item tied to a layer key, holding that key's lock so no fill starts meanwhile. */
async function removeUnderLock(cache: LayerCache, out: PruneResult, item: Omit<PrunedItem, 'bytes'> & { key: string }, busyReason: string, bytes?: number): Promise<void> {
  const lockPath = cache.lockPath(item.key);
  if (out.dryRun) {
    if (await isLocked(lockPath, cache.timing)) out.skipped.push({ ...item, reason: busyReason });
    else out.removed.push({ ...item, bytes: bytes ?? (await treeBytes(item.path)) });
    return;
  }
  const lock = await tryLock(lockPath, cache.timing);
  if (!lock) {
    out.skipped.push({ ...item, reason: busyReason });
    return;
  }
  try {
    await removeItem(cache, out, item, bytes);
  } finally {
    await lock.release();
  }
}

/**
 * Renames first so a reader never sees half a tree under a valid name, then deletes; an
 * interrupted delete leaves a .del-* that the next prune finishes.
 */
async function removeItem(cache: LayerCache, out: PruneResult, item: Omit<PrunedItem, 'bytes'>, bytes?: number): Promise<void> {
  if (!out.dryRun) {
    // A killed build can leave its overlay (or a fill its /proc) mounted: deleting through it would
    // reach what the mount shows, and the mount point itself would refuse to go.
    const stuck = await unmountUnder(item.path);
    if (stuck.length > 0) {
      out.skipped.push({ ...item, reason: `still mounted: ${stuck.join(', ')}` });
      return;
    }
  }
  const size = bytes ?? (await treeBytes(item.path));
  if (!out.dryRun) {
    const doomed = item.what === 'layer' ? join(cache.layersDir, `${DEL_PREFIX}${basename(item.path)}-${randomBytes(6).toString('hex')}`) : item.path;
    if (doomed !== item.path) await rename(item.path, doomed);
    await rm(doomed, { recursive: true, force: true });
  }
  out.removed.push({ ...item, bytes: size });
}
