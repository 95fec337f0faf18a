import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { VmgenError, type ErrorCode } from '../../errors.js';
import type { Runner } from '../runner/run.js';
import type { UpdateFields } from '../runner/updates.js';
import type { ArtifactInfo, BuildRequest } from '../types.js';
import {
  CANCEL_CHANNEL, cancelKey, CLOSE_TIMEOUT_MS, connectionLog, DEFAULT_LOCK_MS, encodeFailure, MAX_STALLED, plainClient, QUEUE_NAME, reachQueue, redisOptions,
  settlesWithin, stoppableOptions, useIoredis,
} from './queue.js';

export interface QueueWorkerOptions {
  /** redis://host:port[/db] */
  url: string;
  concurrency: number;
  /** Reported as `worker` of the builds this process runs. */
  name: string;
  runner: Runner;
  /** Job lock duration and stall check interval (see queue.ts). */
  lockMs?: number;
  log?: (line: string) => void;
}

export interface QueueWorker {
  /** Stops taking jobs and waits for the running builds to finish; false when redis could not be told. */
  close(): Promise<boolean>;
}

/**
 * Failures worth another attempt, maybe on another machine: the build process died (out of
 * memory, killed), or the artifact store could not take the archive. Everything else (a bad
 * config, a failed package install, a cancel) would fail the same way again.
 */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['VMG_RUNNER', 'VMG_ARTIFACT_STORE', 'VMG_DISK_FULL', 'VMG_CACHE_LOCKED']);

/**
 * A `vmgen worker`: takes builds from the BullMQ queue, runs each with the runner (its own
 * process, its archive put into the shared store), and reports through the job: progress data
 * carries the BuildUpdate fields, the return value the artifact. A cancel arrives on a pub/sub
 * channel. If this process dies, its jobs' locks lapse and another worker's stall check gives
 * them to a live worker.
 */
export async function startQueueWorker(opts: QueueWorkerOptions): Promise<QueueWorker> {
  useIoredis();
  const log = opts.log ?? (() => {});
  let stopping = false;
  const connection = stoppableOptions(redisOptions(opts.url), () => stopping);
  const problems = connectionLog(log, opts.url);
  const lockMs = opts.lockMs ?? DEFAULT_LOCK_MS;
  const running = new Map<string, AbortController>();
  /** The builds themselves, apart from reporting their end (which needs redis). */
  const building = new Set<Promise<unknown>>();
  const marks: Redis = plainClient(connection);
  const subscriber: Redis = plainClient(connection);
  for (const c of [marks, subscriber]) {
    c.on('error', problems.error);
    c.on('ready', problems.ready);
  }
  subscriber.on('message', (_channel: string, id: string) => {
    const c = running.get(id);
    if (c) {
      log(`${id}: cancel requested`);
      c.abort(new Error('cancelled'));
    }
  });
  try {
    await reachQueue(opts.url, subscriber.subscribe(CANCEL_CHANNEL));
  } catch (err) {
    marks.disconnect();
    subscriber.disconnect();
    throw err;
  }

  const processJob = async (job: Job<BuildRequest, ArtifactInfo>, _token?: string, jobSignal?: AbortSignal): Promise<ArtifactInfo> => {
    const req = job.data;
    if (await marks.exists(cancelKey(req.id))) throw new UnrecoverableError(encodeFailure('VMG_CANCELLED', 'the build was cancelled'));
    const controller = new AbortController();
    jobSignal?.addEventListener('abort', () => controller.abort(jobSignal.reason), { once: true });
    running.set(req.id, controller);
    // In order, one at a time: the server applies them in the order they arrive.
    let chain: Promise<unknown> = Promise.resolve();
    const send = (u: UpdateFields): void => {
      chain = chain.then(() => job.updateProgress(u as object)).catch((err: Error) => log(`${req.id}: cannot report progress: ${err.message}`));
    };
    const attempt = job.attemptsStarted;
    log(`${req.id}: building ${req.target} (attempt ${attempt})`);
    send({
      state: 'running', started: new Date().toISOString(), worker: opts.name, progress: 0,
      ...(attempt > 1 ? { log: [`attempt ${attempt}, on ${opts.name}`] } : {}),
    });
    try {
      const build = opts.runner(req, { signal: controller.signal, onUpdate: send });
      building.add(build);
      void build.catch(() => {}).finally(() => building.delete(build));
      const artifact = await build;
      await chain;
      log(`${req.id}: stored ${artifact.key} (${artifact.bytes} bytes)`);
      return artifact;
    } catch (err) {
      await chain;
      const e = err instanceof VmgenError ? err : new VmgenError('VMG_BUILD', err instanceof Error ? err.message : String(err));
      const code = controller.signal.aborted ? 'VMG_CANCELLED' : e.code;
      log(`${req.id}: ${code}: ${e.message}`);
      const reason = encodeFailure(code, e.message);
      throw RETRYABLE.has(code) ? new Error(reason) : new UnrecoverableError(reason);
    } finally {
      running.delete(req.id);
    }
  };

  const worker = new Worker<BuildRequest, ArtifactInfo>(QUEUE_NAME, processJob, {
    connection, concurrency: opts.concurrency, name: opts.name,
    lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: MAX_STALLED,
  });
  worker.on('error', problems.error);
  await worker.waitUntilReady();
  return {
    close: async () => {
      // Stops asking for jobs (no redis needed); the builds running here go on to their end.
      await worker.pause(true);
      await Promise.allSettled([...building]);
      // Reporting their ends and leaving needs redis; if it is gone, leave anyway (no more
      // reconnecting): the queue's own stall check settles whatever it did not hear about.
      stopping = true;
      let closed = false;
      const told = (await settlesWithin(worker.close().then(() => (closed = true)), CLOSE_TIMEOUT_MS)) && closed;
      subscriber.disconnect();
      marks.disconnect();
      return told;
    },
  };
}
