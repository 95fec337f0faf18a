import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { VmgenError } from '../errors.js';
import { run } from '../exec/run.js';
import { assertLayerKey, isLayerKey, LAYER_KINDS, layerKey, normalizeParts, type LayerKeyParts, type LayerKind } from './key.js';
import { withLock, type LockTiming } from './lock.js';

/**
 * The build cache: finished root file system layers, the shared .deb pool and per-build scratch
 * directories, all under one root so `vmgen cache prune` can account for everything it holds.
 *
 *   ROOT/debs/                 .deb files shared by every bootstrap
 *   ROOT/layers/<key>/         rootfs/, meta.json, last-used (its mtime is the last use)
 *   ROOT/layers/.tmp-<key>-*   a layer being filled; renamed to <key> only when complete
 *   ROOT/locks/<key>.lock      held while a layer is filled or removed
 *   ROOT/work/<prefix>-*       scratch space of one build; `owner` holds its pid
 */

export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (env.VMGEN_CACHE_DIR) return resolve(env.VMGEN_CACHE_DIR);
  if (uid === 0) return '/var/cache/vmgen';
  // The XDG base directory spec says a relative XDG_CACHE_HOME is to be ignored.
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'vmgen');
  return join(env.HOME || homedir(), '.cache', 'vmgen');
}

/** What the builder says about a layer it fills. */
export interface LayerMeta {
  kind: LayerKind;
  parts: LayerKeyParts;
  /** For a packages layer: the base layer of the same release (whether or not it was made from it). */
  baseKey?: string;
}

/** meta.json: the builder's meta plus what the cache records. Layers are immutable, so bytes stays true. */
export interface StoredLayerMeta extends LayerMeta {
  key: string;
  created: string;
  /** Apparent size of rootfs/ when it was filled. */
  bytes: number;
}

export interface Layer {
  key: string;
  /** Absolute path; read-only by contract: copy from it, never build in it. */
  rootfs: string;
  meta: StoredLayerMeta;
}

export interface LayerInfo {
  key: string;
  kind: LayerKind;
  created: string;
  lastUsed: string;
  bytes: number;
  meta: StoredLayerMeta;
}

export interface FillOptions {
  signal?: AbortSignal;
  /** Called once if another build is filling the same layer and this one waits for it. */
  onWait?: () => void;
}

export interface FillResult {
  layer: Layer;
  /** False when the layer was already there (or another build filled it while we waited). */
  filled: boolean;
}

/** Fills `rootfs` (an empty directory); it must stop when `signal` aborts. */
export type ProduceLayer = (rootfs: string, signal: AbortSignal) => Promise<void>;

export interface LayerCacheOptions {
  /** A lock not refreshed for this long belongs to a dead process and is taken over. */
  staleMs?: number;
  /** Longest wait for another build filling the same layer. */
  maxWaitMs?: number;
}

/** What the cache runs on the host: sync for a layer's metadata, du for its size, umount for what a killed build left mounted. */
export const CACHE_TOOLS = ['sync', 'du', 'umount'] as const;

const DEFAULT_STALE_MS = 20_000;
// Filling a layer with many packages from a slow mirror can take long; a build stuck for longer is broken.
const DEFAULT_MAX_WAIT_MS = 60 * 60_000;
// mkdtemp and writing `owner` are two steps: a work dir without an owner is left alone this long.
const ORPHAN_GRACE_MS = 60 * 60_000;
const META = 'meta.json';
const LAST_USED = 'last-used';
const OWNER = 'owner';
export const TMP_PREFIX = '.tmp-';
export const DEL_PREFIX = '.del-';
export const LOCK_SUFFIX = '.lock';
const WORK_PREFIX = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const storedMetaSchema = z.object({
  key: z.string(),
  kind: z.enum(LAYER_KINDS),
  parts: z.object({
    distribution: z.string(),
    release: z.string(),
    suite: z.string(),
    arch: z.string(),
    mirror: z.string(),
    packages: z.array(z.string()),
    variant: z.string(),
    recipe: z.number().int(),
  }),
  baseKey: z.string().optional(),
  created: z.string(),
  bytes: z.number(),
});

export class LayerCache {
  readonly root: string;
  readonly debsDir: string;
  readonly layersDir: string;
  readonly locksDir: string;
  readonly workDir: string;
  readonly timing: LockTiming;

  constructor(root: string, opts: LayerCacheOptions = {}) {
    this.root = resolve(root);
    this.debsDir = join(this.root, 'debs');
    this.layersDir = join(this.root, 'layers');
    this.locksDir = join(this.root, 'locks');
    this.workDir = join(this.root, 'work');
    this.timing = { staleMs: opts.staleMs ?? DEFAULT_STALE_MS, maxWaitMs: opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS };
  }

  /** Creates the cache directories; the other methods create what they need themselves. */
  async init(): Promise<void> {
    await ensureDirs([this.debsDir, this.layersDir, this.locksDir, this.workDir]);
  }

  /** The complete layer, or undefined; marks it used so prune keeps it. */
  async get(key: string): Promise<Layer | undefined> {
    assertLayerKey(key);
    const dir = this.layerDir(key);
    const meta = await readMeta(dir);
    if (meta?.key !== key) return undefined;
    await touch(join(dir, LAST_USED));
    return { key, rootfs: join(dir, 'rootfs'), meta };
  }

  /**
   * Returns the layer, calling `produce` only if no build made it yet. Builds of the same key take
   * turns (the later one finds the layer and does not produce it again); other keys do not wait.
   */
  async fill(key: string, meta: LayerMeta, produce: ProduceLayer, opts: FillOptions = {}): Promise<FillResult> {
    assertLayerKey(key);
    const expected = layerKey(meta.kind, meta.parts);
    if (expected !== key) throw new VmgenError('VMG_CACHE_KEY', `layer key ${key} does not match its meta (which gives ${expected})`);
    const present = await this.get(key);
    if (present) return { layer: present, filled: false };
    await ensureDirs([this.layersDir, this.locksDir]);
    return withLock(this.lockPath(key), this.timing, opts, async (lost) => {
      // The build we waited for has probably made it.
      const made = await this.get(key);
      if (made) return { layer: made, filled: false };
      const signal = opts.signal ? AbortSignal.any([opts.signal, lost]) : lost;
      return this.produceLayer(key, meta, produce, signal);
    });
  }

  /** Every complete layer, most recently used first. Does not count as a use. */
  async list(): Promise<LayerInfo[]> {
    const keys = (await readdirOrEmpty(this.layersDir)).filter(isLayerKey);
    const infos = await Promise.all(keys.map((key) => this.info(key)));
    return infos.filter((i): i is LayerInfo => i !== undefined).sort((a, b) => b.lastUsed.localeCompare(a.lastUsed));
  }

  /** A fresh ROOT/work/<prefix>-<random> owned by this process; the build removes it when done. */
  async newWorkDir(prefix: string): Promise<string> {
    if (!WORK_PREFIX.test(prefix)) throw new VmgenError('VMG_CACHE_KEY', `'${prefix}' cannot start a work directory name`);
    await ensureDirs([this.workDir]);
    const dir = await mkdtemp(join(this.workDir, `${prefix}-`));
    await writeFile(join(dir, OWNER), `${process.pid}\n${hostname()}\n`);
    return dir;
  }

  /** Work dirs whose owning process is gone (killed, crashed) and that nobody will clean up. */
  async staleWorkDirs(): Promise<string[]> {
    const dirs = (await readdirOrEmpty(this.workDir)).map((name) => join(this.workDir, name));
    const stale = await Promise.all(dirs.map(async (dir) => ((await isStaleWorkDir(dir)) ? dir : undefined)));
    return stale.filter((d): d is string => d !== undefined);
  }

  /** ROOT/layers/<key>: the layer's directory, whether or not it is complete. */
  layerDir(key: string): string {
    return join(this.layersDir, key);
  }

  /** What tryLock takes for the lock of a layer key. */
  lockPath(key: string): string {
    return join(this.locksDir, key);
  }

  /** Produces into a hidden temporary directory and renames it into place only when complete. */
  private async produceLayer(key: string, meta: LayerMeta, produce: ProduceLayer, signal: AbortSignal): Promise<FillResult> {
    // get() found nothing valid, so anything at the final path is a broken hand-made leftover.
    await rm(this.layerDir(key), { recursive: true, force: true });
    const tmp = join(this.layersDir, `${TMP_PREFIX}${key}-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(join(tmp, 'rootfs'), { recursive: true });
      await produce(join(tmp, 'rootfs'), signal);
      signal.throwIfAborted();
      const stored: StoredLayerMeta = {
        ...meta, parts: normalizeParts(meta.parts), key, created: new Date().toISOString(), bytes: await treeBytes(join(tmp, 'rootfs')),
      };
      await writeFile(join(tmp, META), `${JSON.stringify(stored, null, 2)}\n`);
      await writeFile(join(tmp, LAST_USED), '');
      // Later builds trust a layer without checking it: its files must be on disk before its name is.
      await run(['sync', '-f', join(tmp, META)], { signal });
      signal.throwIfAborted();
      return await this.publish(tmp, stored);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      // A cancelled or lost-lock fill reports why it stopped, not how the producer noticed.
      throw signal.aborted ? signal.reason : err;
    }
  }

  private async publish(tmp: string, meta: StoredLayerMeta): Promise<FillResult> {
    try {
      await rename(tmp, this.layerDir(meta.key));
      return { layer: { key: meta.key, rootfs: join(this.layerDir(meta.key), 'rootfs'), meta }, filled: true };
    } catch (err) {
      // Only possible if our lock was taken over and the other holder published first: theirs will do.
      const theirs = await this.get(meta.key);
      if (!theirs) throw err;
      await rm(tmp, { recursive: true, force: true });
      return { layer: theirs, filled: false };
    }
  }

  private async info(key: string): Promise<LayerInfo | undefined> {
    const dir = this.layerDir(key);
    const meta = await readMeta(dir);
    if (meta?.key !== key) return undefined;
    const lastUsed = (await mtime(join(dir, LAST_USED))) ?? new Date(meta.created);
    return { key, kind: meta.kind, created: meta.created, lastUsed: lastUsed.toISOString(), bytes: meta.bytes, meta };
  }

}

export async function ensureDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new VmgenError('VMG_CACHE_IO', `cannot create ${dir}: ${(err as Error).message}`, {
        cause: err,
        hint: 'set VMGEN_CACHE_DIR (or --cache-dir) to a directory you can write',
      });
    }
  }
}

export async function readMeta(layerDir: string): Promise<StoredLayerMeta | undefined> {
  try {
    const parsed = storedMetaSchema.safeParse(JSON.parse(await readFile(join(layerDir, META), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort: a user who may read but not write the cache can still use it. */
async function touch(path: string): Promise<void> {
  const now = new Date();
  try {
    await utimes(path, now, now);
  } catch {
    await writeFile(path, '').catch(() => {});
  }
}

async function mtime(path: string): Promise<Date | undefined> {
  return stat(path).then((s) => s.mtime, () => undefined);
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

async function isStaleWorkDir(dir: string): Promise<boolean> {
  const owner = await readFile(join(dir, OWNER), 'utf8').catch(() => undefined);
  if (owner === undefined) {
    const st = await stat(dir).catch(() => undefined);
    return st !== undefined && st.isDirectory() && Date.now() - st.mtimeMs > ORPHAN_GRACE_MS;
  }
  const [pidText, host] = owner.split('\n');
  // A cache shared between machines: another host's pid says nothing here.
  if (host && host !== hostname()) return false;
  const pid = Number(pidText);
  return Number.isInteger(pid) && pid > 0 && !processAlive(pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Apparent size of a tree, like `du -sb`: lstat, so symlinks are not followed, and hard links
 * counted once. Unreadable parts (root-owned 0700 dirs seen by a user) are skipped, not fatal.
 */
/** Apparent size of a tree, hard links counted once: `du -sb`, ten times faster than walking it from node. */
export async function treeBytes(path: string): Promise<number> {
  try {
    const r = await run(['du', '-sbx', '--', path]);
    return Number(r.stdout.split('\t')[0]) || 0;
  } catch {
    return 0;
  }
}
