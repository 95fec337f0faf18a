import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { VmgenError } from '../errors.js';

/**
 * Cross-process locks on cache entries. proper-lockfile makes a lock directory with mkdir (atomic,
 * also on NFS) and keeps touching its mtime while held; a lock whose mtime is older than `staleMs`
 * belongs to a process that died (kill -9, power loss) and is taken over instead of blocking forever.
 */
export interface LockTiming {
  /** A held lock is refreshed well within this; one left untouched this long is taken over. */
  staleMs: number;
  /** How long to wait for a live holder before giving up. */
  maxWaitMs: number;
}

export interface HeldLock {
  /** Aborted if the lock was taken from us (our refreshes stopped for longer than staleMs). */
  readonly lost: AbortSignal;
  /** Safe to call more than once and after the lock was lost. */
  release(): Promise<void>;
}

export interface AcquireOptions {
  signal?: AbortSignal | undefined;
  /** Called once, when the lock is found held by someone else and we start waiting. */
  onWait?: (() => void) | undefined;
}

const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 2000;

/** Takes the lock at `path` (a directory `${path}.lock` is made), waiting for a live holder. */
export async function acquireLock(path: string, timing: LockTiming, opts: AcquireOptions = {}): Promise<HeldLock> {
  const deadline = Date.now() + timing.maxWaitMs;
  let pollMs = FIRST_POLL_MS;
  let waiting = false;
  for (;;) {
    opts.signal?.throwIfAborted();
    const held = await tryLock(path, timing);
    if (held) return held;
    if (!waiting) {
      waiting = true;
      opts.onWait?.();
    }
    if (Date.now() >= deadline) throw lockTimeout(path, timing.maxWaitMs);
    await abortableSleep(Math.min(pollMs, deadline - Date.now()), opts.signal);
    pollMs = Math.min(pollMs * 1.5, MAX_POLL_MS);
  }
}

/** Takes the lock if it is free (or stale); undefined when a live process holds it. */
export async function tryLock(path: string, timing: Pick<LockTiming, 'staleMs'>): Promise<HeldLock | undefined> {
  const lost = new AbortController();
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, {
      realpath: false,
      stale: timing.staleMs,
      // Refresh often compared with staleMs, so a busy thread pool delays a refresh without losing the lock.
      update: Math.max(1000, Math.floor(timing.staleMs / 4)),
      onCompromised: (err) =>
        lost.abort(new VmgenError('VMG_CACHE_LOCK_LOST', `lost the cache lock ${path}.lock: ${err.message}`, {
          cause: err,
          hint: 'another vmgen process took it over; this usually means the machine was suspended or overloaded',
        })),
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw new VmgenError('VMG_CACHE_IO', `cannot take the cache lock ${path}.lock: ${(err as Error).message}`, { cause: err });
  }
  let released = false;
  return {
    lost: lost.signal,
    release: async () => {
      if (released || lost.signal.aborted) return;
      released = true;
      await release().catch(() => {
        // Already released or compromised: either way it is no longer ours.
      });
    },
  };
}

/** Whether a live process holds the lock at `path` (a stale lock counts as free). */
export async function isLocked(path: string, timing: Pick<LockTiming, 'staleMs'>): Promise<boolean> {
  return lockfile.check(path, { realpath: false, stale: timing.staleMs }).catch(() => false);
}

/** Runs `fn` holding the lock at `path`, releasing it whatever happens. */
export async function withLock<T>(path: string, timing: LockTiming, opts: AcquireOptions, fn: (lost: AbortSignal) => Promise<T>): Promise<T> {
  const lock = await acquireLock(path, timing, opts);
  try {
    return await fn(lock.lost);
  } finally {
    await lock.release();
  }
}

function lockTimeout(path: string, maxWaitMs: number): VmgenError {
  const waited = maxWaitMs < 120_000 ? `${Math.ceil(maxWaitMs / 1000)} s` : `${Math.round(maxWaitMs / 60_000)} min`;
  return new VmgenError('VMG_CACHE_LOCKED', `waited ${waited} for the cache lock ${path}.lock`, {
    hint: `another vmgen build holds it; if none is running, remove ${path}.lock`,
  });
}

/** Rejects with the signal's own reason, like signal.throwIfAborted, not with a generic AbortError. */
async function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}
