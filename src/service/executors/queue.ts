import { createIORedisClient, RedisConnection, type RedisOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { VmgenError } from '../../errors.js';

/**
 * What the producer (the server) and the consumers (`vmgen worker`) agree on: the queue's name,
 * the names of the cancel channel and markers, and how an outcome travels as a job's failedReason.
 */
export const QUEUE_NAME = 'vmgen-builds';
/** Pub/sub channel: a message is the id of a running build to cancel. */
export const CANCEL_CHANNEL = `vmgen:${QUEUE_NAME}:cancel`;
/** Set when a build is cancelled, so a worker that takes it up later (a race with the cancel) drops it. */
export const cancelKey = (id: string): string => `vmgen:${QUEUE_NAME}:canceled:${id}`;
export const CANCEL_MARK_SECONDS = 7 * 24 * 3600;

/** A job's lock, renewed at half this by a live worker; a job whose lock lapses is given to another. */
export const DEFAULT_LOCK_MS = 30_000;
/** How often a stalled build may be taken from a dead worker and retried before it is failed. */
export const MAX_STALLED = 2;
/** A failing attempt (the build process crashed, the store was unreachable) is retried once. */
export const ATTEMPTS = 2;

/** Lock duration and stall check interval: VMGEN_QUEUE_LOCK_MS (tests use a few seconds), else 30 s. */
export function lockMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.VMGEN_QUEUE_LOCK_MS;
  if (raw === undefined || raw === '') return DEFAULT_LOCK_MS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1000) throw new VmgenError('VMG_USAGE', `VMGEN_QUEUE_LOCK_MS must be a whole number of milliseconds from 1000, not ${raw}`);
  return n;
}

/** redis://[user:password@]host[:port][/db] (rediss:// for TLS) → connection options. */
export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badUrl(url);
  }
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '' || (u.pathname !== '' && !/^\/\d*$/.test(u.pathname)) || u.search !== '') {
    throw badUrl(url);
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port === '' ? 6379 : Number(u.port),
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

function badUrl(url: string): VmgenError {
  return new VmgenError('VMG_USAGE', `bad queue address ${JSON.stringify(url)}`, { hint: 'write it as redis://HOST:PORT (or redis://HOST:PORT/DB)' });
}

/**
 * BullMQ 6 loads no Redis driver by itself from an ES module; it asks for a factory, which is
 * global to the library. Every vmgen queue uses ioredis, so setting it more than once is harmless.
 */
export function useIoredis(): void {
  RedisConnection.clientFactory ??= (opts) => {
    const { url, ...rest } = opts as RedisOptions & { url?: string };
    return createIORedisClient(url ? new Redis(url, rest) : new Redis(rest));
  };
}

/** How long start-up waits for redis before it reports the queue unreachable (then clients keep reconnecting by themselves). */
export const CONNECT_TIMEOUT_MS = 15_000;

/** Resolves with `what`, or fails with VMG_QUEUE when redis does not answer in time. */
export async function reachQueue<T>(url: string, what: Promise<T>, ms = CONNECT_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_ok, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer in ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([what, timeout]);
  } catch (err) {
    throw new VmgenError('VMG_QUEUE', `cannot reach the build queue at ${url}: ${(err as Error).message}`, {
      cause: err, hint: 'is redis-server running there, and reachable from this machine?',
    });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connection options whose clients reconnect while `stopping()` is false and give up once it is
 * true, so closing while redis is unreachable ends instead of retrying forever. BullMQ passes them
 * on to every client it makes, the blocking ones included.
 */
export function stoppableOptions(opts: RedisOptions, stopping: () => boolean): RedisOptions {
  return { ...opts, retryStrategy: (times: number) => (stopping() ? null : Math.min(1000 * times, 5000)) };
}

/** Logs a connection problem once, and again only after the connection worked in between. */
export function connectionLog(log: (line: string) => void, url: string): { error(err: Error): void; ready(): void } {
  let last = '';
  return {
    error: (err) => {
      if (err.message === last) return;
      last = err.message;
      log(`build queue at ${url}: ${err.message}`);
    },
    ready: () => {
      if (last !== '') log(`build queue at ${url}: connected again`);
      last = '';
    },
  };
}

/** How long closing waits to tell redis it is leaving before it just leaves. */
export const CLOSE_TIMEOUT_MS = 10_000;

/** Whether `what` settles (resolved or not) within `ms`; the timer is cleared either way. */
export async function settlesWithin(what: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((ok) => {
    timer = setTimeout(() => ok(false), ms);
  });
  try {
    return await Promise.race([what.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A plain client (pub/sub, cancel marks) on the same server. */
export function plainClient(opts: RedisOptions): Redis {
  return new Redis({ ...opts, maxRetriesPerRequest: null });
}

/** A build's end as a job's failedReason: `CODE: message`, so the server gets the error code back. */
export function encodeFailure(code: string, message: string): string {
  return `${code}: ${message}`;
}

export function decodeFailure(reason: string | undefined): { code: string; message: string } {
  const m = /^(VMG_[A-Z_]+): ([\s\S]*)$/.exec(reason ?? '');
  // Reasons the queue itself gives (a job stalled too often) carry no code of ours.
  return m ? { code: m[1]!, message: m[2]! } : { code: 'VMG_QUEUE', message: reason || 'the build failed in the queue' };
}
