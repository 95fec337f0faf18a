import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Catalogs } from '../catalog/schema.js';
import { VmgenError } from '../errors.js';
import { createApp, DEFAULT_LIMITS, type ServiceLimits } from './app.js';
import { createArtifactStore, DirArtifactStore } from './artifacts/index.js';
import { ServiceDb } from './db.js';
import { Jobs, type JobsLog } from './jobs.js';
import { BuildEvents } from './events.js';
import { createExecutor } from './executors/index.js';
import { collectArtifacts, collectBuilds, sweepArtifactDir, type ArtifactLimits, type BuildLimits } from './gc.js';
import { Metrics } from './metrics.js';
import type { SourcePolicy } from './source-policy.js';
import { makePrivate, PRIVATE_DIR_MODE } from './private.js';
import type { ArtifactStore, Executor } from './types.js';

export interface ServerOptions {
  dataDir: string;
  host: string;
  port: number;
  concurrency: number;
  catalogs: Catalogs;
  cacheDir?: string;
  /** redis://host:port: builds go to `vmgen worker` processes through BullMQ. */
  queue?: string;
  /** A directory or s3://bucket/prefix; default DATA/artifacts. */
  artifacts?: string;
  /** An S3-compatible server for s3:// artifacts. */
  s3Endpoint?: string;
  limits?: Partial<ServiceLimits>;
  /** Which mirrors and repositories configs may name (`--allow-mirror`); default: the host's own apt sources. */
  sourcePolicy?: SourcePolicy;
  artifactLimits?: ArtifactLimits;
  /** How long builds that ended stay in the job table (`--keep-builds`). */
  buildLimits?: BuildLimits;
  gcIntervalMs?: number;
  logger?: Logger;
  /** Tests pass their own; otherwise made from the options above. */
  executor?: Executor;
  store?: ArtifactStore;
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  db: ServiceDb;
  jobs: Jobs;
  close(): Promise<void>;
}

export const DEFAULT_GC_INTERVAL_MS = 10 * 60_000;

/**
 * The data directory, its database files, the work directory and a directory store with all its
 * archives, made private at every start. The work directory's contents are builds' root file
 * systems, whose modes are the guest's: only the directory itself is closed.
 */
async function makeServiceFilesPrivate(dataDir: string, workDir: string, store: ArtifactStore, log?: JobsLog): Promise<void> {
  await mkdir(workDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const changed = [
    ...await makePrivate(dataDir, { recursive: false }),
    ...(await Promise.all(['service.db', 'service.db-wal', 'service.db-shm'].map((f) => makePrivate(join(dataDir, f), { recursive: false })))).flat(),
    ...await makePrivate(workDir, { recursive: false }),
  ];
  if (store instanceof DirArtifactStore) {
    await mkdir(store.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    changed.push(...await makePrivate(store.dir, { recursive: true }));
  }
  if (changed.length) log?.warn({ paths: changed.slice(0, 20), count: changed.length }, 'made service files private (0700 directories, 0600 files)');
}

/**
 * Opens the data directory, recovers from an earlier stop, runs GC, starts the executor, then
 * listens. The data directory holds service.db, artifacts/ (unless --artifacts says otherwise) and
 * work/ (running builds' temp output, cleaned by the executor at start).
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const dataDir = resolve(opts.dataDir);
  const log = opts.logger;
  const db = ServiceDb.open(dataDir);
  try {
    const store = opts.store ?? createArtifactStore(opts.artifacts?.startsWith('s3://')
      ? { s3: opts.artifacts, ...(opts.s3Endpoint ? { endpoint: opts.s3Endpoint } : {}) } : { dir: resolve(opts.artifacts ?? join(dataDir, 'artifacts')) });
    const workDir = join(dataDir, 'work');
    await makeServiceFilesPrivate(dataDir, workDir, store, log);
    const executor = opts.executor ?? createExecutor({
      ...(opts.queue ? { queue: opts.queue } : {}), concurrency: opts.concurrency, artifacts: store,
      workDir, dataDir, ...(opts.cacheDir ? { cacheRoot: opts.cacheDir } : {}),
      ...(log ? { log: log.child({ component: 'executor' }) } : {}),
    });
    const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...opts.limits };
    const events = new BuildEvents();
    const metrics = new Metrics();
    const jobs = new Jobs({ db, executor, store, events, metrics, maxQueuedPerUser: limits.maxQueuedPerUser, ...(log ? { log } : {}) });
    const local = !opts.queue;
    if (local) {
      jobs.recoverInterrupted();
      // Only this server writes a local store, and nothing is being stored yet: all debris is old.
      if (store instanceof DirArtifactStore) await sweepArtifactDir(db, store.dir, log);
    }
    const artifactLimits = opts.artifactLimits ?? {};
    const gc = async (): Promise<void> => {
      await collectArtifacts(db, store, artifactLimits, log ? { log } : {})
        .catch((err: Error) => log?.error({ err: err.message }, 'artifact GC failed'));
      await collectBuilds(db, store, opts.buildLimits ?? {}, log ? { log } : {})
        .catch((err: Error) => log?.error({ err: err.message }, 'build GC failed'));
    };
    await gc();
    await executor.start(jobs.onUpdate);
    if (local) await jobs.resubmitQueued();
    else await jobs.resyncOpen();

    const app = await createApp({ db, jobs, store, events, metrics, catalogs: opts.catalogs, limits,
      ...(opts.sourcePolicy ? { sourcePolicy: opts.sourcePolicy } : {}), ...(log ? { logger: log } : {}) });
    try {
      await app.listen({ host: opts.host, port: opts.port });
    } catch (err) {
      await executor.close().catch(() => {});
      const code = (err as NodeJS.ErrnoException).code;
      throw new VmgenError('VMG_USAGE', `cannot listen on ${opts.host}:${opts.port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (err as Error).message}`, { cause: err });
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : opts.port;
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    const timer = setInterval(() => void gc(), opts.gcIntervalMs ?? DEFAULT_GC_INTERVAL_MS);
    timer.unref();
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host}:${port}`, app, db, jobs,
      close: () => (closing ??= (async () => {
        clearInterval(timer);
        jobs.stop();
        events.closeAll();
        await app.close();
        await executor.close();
        db.close();
      })()),
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
