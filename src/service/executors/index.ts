import { hostname } from 'node:os';
import { defaultCacheRoot } from '../../cache/store.js';
import { cleanWorkDir, processRunner } from '../runner/run.js';
import type { ArtifactStore, Executor } from '../types.js';
import { LocalExecutor } from './local.js';
import { RedisExecutor } from './redis.js';

export { LocalExecutor } from './local.js';
export { RedisExecutor } from './redis.js';
export { startQueueWorker, type QueueWorker, type QueueWorkerOptions } from './worker.js';

export interface ServiceLog {
  info(...a: unknown[]): void;
  warn(...a: unknown[]): void;
  error(...a: unknown[]): void;
}

export interface ExecutorOptions {
  /** redis://host:port[/db]: builds go to BullMQ workers (`vmgen worker`) instead of running here. */
  queue?: string;
  concurrency: number;
  cacheRoot?: string;
  artifacts: ArtifactStore;
  /** Temp output of running builds; what a killed process left here is removed on start. */
  workDir: string;
  /** The server's data directory: hidden from build logs as <data>. */
  dataDir?: string;
  log?: ServiceLog;
}

/** The in-process executor with `concurrency` slots, or, with `queue`, the producer side of a BullMQ queue. */
export function createExecutor(opts: ExecutorOptions): Executor {
  if (opts.queue) return new RedisExecutor({ url: opts.queue, ...(opts.log ? { log: opts.log } : {}) });
  const runner = processRunner({
    workDir: opts.workDir, cacheRoot: opts.cacheRoot ?? defaultCacheRoot(), artifacts: opts.artifacts,
    ...(opts.dataDir ? { hidePaths: [{ path: opts.dataDir, as: '<data>' }] } : {}),
  });
  return new LocalExecutor({
    concurrency: opts.concurrency, runner, worker: hostname(),
    prepare: async () => {
      const removed = await cleanWorkDir(opts.workDir);
      if (removed.length > 0) opts.log?.info(`removed the temp output of ${removed.length} earlier process(es) from ${opts.workDir}`);
    },
  });
}
