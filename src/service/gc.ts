import { lstat, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactFiles } from './artifacts/dir.js';
import type { ServiceDb } from './db.js';
import { BUILD_ID } from './routes/common.js';
import type { ArtifactStore } from './types.js';

/** What artifacts may use; an unset limit does not apply. */
export interface ArtifactLimits {
  /** Artifacts of builds that finished longer ago than this are deleted. */
  maxAgeMs?: number;
  /** When all artifacts together are larger than this, the oldest are deleted until they fit. */
  maxTotalBytes?: number;
}

export interface GcRemoved {
  id: string;
  key: string;
  bytes: number;
  reason: 'age' | 'space';
}

export interface GcResult {
  removed: GcRemoved[];
  /** Bytes of the artifacts that remain. */
  keptBytes: number;
  /** Artifacts that could not be deleted (the store refused); they stay listed and are tried again next time. */
  failed: Array<{ id: string; key: string; error: string }>;
}

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Deletes artifacts over the age limit, then the oldest until the rest fit the space limit. The
 * file goes first and the row after, so a download never finds a row whose file was deleted under
 * it mid-lookup (and a download already streaming keeps its open file).
 */
export async function collectArtifacts(db: ServiceDb, store: ArtifactStore, limits: ArtifactLimits, opts: { now?: number; log?: Log } = {}): Promise<GcResult> {
  const now = opts.now ?? Date.now();
  const result: GcResult = { removed: [], keptBytes: 0, failed: [] };
  const kept: Array<{ id: string; key: string; bytes: number }> = [];
  const remove = async (a: { id: string; key: string; bytes: number }, reason: GcRemoved['reason']): Promise<boolean> => {
    try {
      await store.delete(a.key);
    } catch (err) {
      result.failed.push({ id: a.id, key: a.key, error: (err as Error).message });
      opts.log?.warn({ build: a.id, key: a.key, err: (err as Error).message }, 'cannot delete an artifact');
      return false;
    }
    db.clearArtifact(a.id);
    result.removed.push({ ...a, reason });
    opts.log?.info({ build: a.id, key: a.key, bytes: a.bytes, reason }, 'artifact deleted');
    return true;
  };
  for (const { id, finished, artifact } of db.artifacts()) {
    const a = { id, key: artifact.key, bytes: artifact.bytes };
    const age = now - Date.parse(finished);
    if (limits.maxAgeMs !== undefined && age > limits.maxAgeMs) {
      if (!(await remove(a, 'age'))) kept.push(a);
    } else {
      kept.push(a);
    }
  }
  let total = kept.reduce((s, a) => s + a.bytes, 0);
  if (limits.maxTotalBytes !== undefined) {
    // Oldest first: db.artifacts() is ordered by when the build finished.
    for (const a of [...kept]) {
      if (total <= limits.maxTotalBytes) break;
      if (await remove(a, 'space')) {
        total -= a.bytes;
        kept.splice(kept.indexOf(a), 1);
      }
    }
  }
  result.keptBytes = total;
  return result;
}

/**
 * For a directory store used by this server alone (no queue): at start-up nothing can be mid-put,
 * so whatever the job table does not name is debris of a killed server: temp files in `.incoming`,
 * and build folders (`<build id>/…`) whose artifact never got its row. Only names vmgen makes are
 * touched, so a store pointed at a shared directory loses nothing else.
 */
export async function sweepArtifactDir(db: ServiceDb, dir: string, log?: Log): Promise<string[]> {
  const removed: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.name === '.incoming' && e.isDirectory()) {
      for (const name of await readdir(path).catch(() => [] as string[])) {
        if (!name.endsWith('.part')) continue;
        await rm(join(path, name), { force: true, recursive: true });
        removed.push(join('.incoming', name));
      }
      continue;
    }
    if (!e.isDirectory() || !BUILD_ID.test(e.name)) continue;
    const build = db.getBuild(e.name);
    if (build && (build.state === 'queued' || build.state === 'running')) continue;
    for (const name of await readdir(path).catch(() => [] as string[])) {
      const key = `${e.name}/${name}`;
      if (db.hasArtifactKey(key)) continue;
      const st = await lstat(join(path, name)).catch(() => undefined);
      // A file, or an artifact kept as parts (a directory of 0, 1, …).
      if (!st?.isFile() && !(st?.isDirectory() && (await artifactFiles(join(path, name))))) continue;
      await rm(join(path, name), { force: true, recursive: true });
      removed.push(key);
    }
    await rmdir(path).catch(() => {});
  }
  if (removed.length) log?.info({ removed }, 'removed artifact files no build refers to');
  return removed;
}

/** How long the job table keeps a build that has ended; unset keeps it for ever. */
export interface BuildLimits {
  maxAgeMs?: number;
}

/**
 * Deletes builds that ended longer ago than the limit: the artifact first (as collectArtifacts
 * does), then the row with its config (which holds passwords) and its log. A build whose artifact
 * the store will not delete stays, and is tried again next time.
 */
export async function collectBuilds(db: ServiceDb, store: ArtifactStore, limits: BuildLimits, opts: { now?: number; log?: Log } = {}): Promise<{ removed: string[]; failed: string[] }> {
  const result = { removed: [] as string[], failed: [] as string[] };
  if (limits.maxAgeMs === undefined) return result;
  const before = new Date((opts.now ?? Date.now()) - limits.maxAgeMs).toISOString();
  for (;;) {
    const rows = db.endedBefore(before, 500).filter((r) => !result.failed.includes(r.id));
    if (rows.length === 0) break;
    for (const row of rows) {
      try {
        if (row.artifact) await store.delete(row.artifact.key);
      } catch (err) {
        result.failed.push(row.id);
        opts.log?.warn({ build: row.id, err: (err as Error).message }, 'cannot delete the artifact of an expired build');
        continue;
      }
      db.deleteBuild(row.id);
      result.removed.push(row.id);
    }
    if (rows.every((r) => result.failed.includes(r.id))) break;
  }
  if (result.removed.length) opts.log?.info({ builds: result.removed.length }, 'deleted builds that ended before the keep limit');
  return result;
}
