import { Queue, QueueEvents, type RedisOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { VmgenError } from '../../errors.js';
import type { ArtifactInfo, BuildRequest, BuildUpdate, Executor } from '../types.js';
import {
  ATTEMPTS, CANCEL_CHANNEL, CANCEL_MARK_SECONDS, cancelKey, CLOSE_TIMEOUT_MS, connectionLog, decodeFailure, plainClient, QUEUE_NAME, reachQueue,
  redisOptions, settlesWithin, stoppableOptions, useIoredis,
} from './queue.js';

export interface RedisExecutorOptions {
  /** redis://host:port[/db] */
  url: string;
  log?: { info(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void };
}

/**
 * Finished jobs kept in redis for a day: the service's own table is the record, but a server that
 * was down while workers finished builds reads their outcome (the artifact, the error) from here.
 */
const KEEP_FINISHED_SECONDS = 24 * 3600;

/**
 * The server's side of the BullMQ queue: a build becomes a job (its id is the build's id), and
 * what workers report comes back through the queue's event stream: a job's progress data carries
 * BuildUpdate fields (state running, worker, step, progress, log lines), its return value the
 * stored artifact, its failure `CODE: message`. Running builds are left to the queue on close.
 */
export class RedisExecutor implements Executor {
  private readonly connection: RedisOptions;
  private queue: Queue | undefined;
  private events: QueueEvents | undefined;
  private client: Redis | undefined;
  private emit: (u: BuildUpdate) => void = () => {};
  private stopping = false;

  constructor(private readonly opts: RedisExecutorOptions) {
    this.connection = stoppableOptions(redisOptions(opts.url), () => this.stopping);
    useIoredis();
  }

  async start(onUpdate: (u: BuildUpdate) => void): Promise<void> {
    const emit = (u: BuildUpdate): void => {
      try {
        onUpdate(u);
      } catch (err) {
        this.opts.log?.error({ err, id: u.id }, 'build update listener failed');
      }
    };
    this.emit = emit;
    this.queue = new Queue(QUEUE_NAME, { connection: this.connection });
    this.events = new QueueEvents(QUEUE_NAME, { connection: this.connection });
    this.client = plainClient(this.connection);
    // Redis going away is logged (once), not thrown: the clients reconnect by themselves.
    const problems = connectionLog((line) => this.opts.log?.warn(line), this.opts.url);
    this.queue.on('error', problems.error);
    this.events.on('error', problems.error);
    this.client.on('error', problems.error);
    this.client.on('ready', problems.ready);
    this.events.on('progress', ({ jobId, data }) => {
      if (data && typeof data === 'object') emit({ ...(data as Omit<BuildUpdate, 'id'>), id: jobId });
    });
    this.events.on('completed', ({ jobId, returnvalue }) => {
      const artifact = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as ArtifactInfo;
      emit({ id: jobId, state: 'succeeded', finished: now(), progress: 1, artifact });
    });
    this.events.on('failed', ({ jobId, failedReason }) => this.reportFailure(jobId, failedReason));
    this.events.on('stalled', ({ jobId }) => {
      emit({ id: jobId, state: 'queued', log: ['the worker running this build stopped answering; it is queued again for another worker'] });
    });
    try {
      await reachQueue(this.opts.url, Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady(), this.client.ping()]));
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async submit(req: BuildRequest): Promise<void> {
    if (!this.queue) throw new VmgenError('VMG_QUEUE', 'the executor is not started');
    await this.queue.add('build', req, {
      jobId: req.id, attempts: ATTEMPTS, backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: { age: KEEP_FINISHED_SECONDS }, removeOnFail: { age: KEEP_FINISHED_SECONDS },
    });
    this.emit({ id: req.id, state: 'queued' });
  }

  /**
   * After a restart: what the queue knows of builds the table still has queued or running. Workers
   * go on while the server is down, and the events of those hours are gone; the jobs are not.
   * A job the queue no longer has (redis lost its data) cannot end any other way: it is failed.
   */
  async resync(ids: readonly string[]): Promise<void> {
    if (!this.queue) throw new VmgenError('VMG_QUEUE', 'the executor is not started');
    for (const id of ids) {
      const job = await this.queue.getJob(id);
      const state = job ? await job.getState() : 'unknown';
      if (!job || state === 'unknown') {
        this.emit({ id, state: 'failed', finished: now(), error: 'the build queue has no record of this build: it was lost while the server was down', errorCode: 'VMG_INTERRUPTED' });
      } else if (state === 'completed') {
        this.emit({ id, state: 'succeeded', finished: now(), progress: 1, artifact: job.returnvalue as ArtifactInfo });
      } else if (state === 'failed') {
        this.reportFailure(id, job.failedReason);
      } else if (state === 'active') {
        // The last progress report holds the build's latest running fields (its log lines were sent
        // already); the queue itself knows which worker took it.
        const { log: _log, ...fields } = (job.progress && typeof job.progress === 'object' ? job.progress : {}) as Omit<BuildUpdate, 'id'>;
        this.emit({ ...fields, ...(job.processedBy ? { worker: job.processedBy } : {}), id, state: 'running' });
      } else {
        // Waiting, or delayed for a retry after a failed attempt.
        this.emit({ id, state: 'queued' });
      }
    }
  }

  private reportFailure(id: string, failedReason: string | undefined): void {
    const { code, message } = decodeFailure(failedReason);
    this.emit(code === 'VMG_CANCELLED'
      ? { id, state: 'canceled', finished: now() }
      : { id, state: 'failed', finished: now(), error: message, errorCode: code });
  }

  /** Queued: removed from the queue here. Running: the worker running it is told, and reports it canceled. */
  async cancel(id: string): Promise<void> {
    if (!this.queue || !this.client) throw new VmgenError('VMG_QUEUE', 'the executor is not started');
    // Marked first: a worker that takes the job between the look-up and the removal drops it on sight.
    await this.client.set(cancelKey(id), '1', 'EX', CANCEL_MARK_SECONDS);
    const job = await this.queue.getJob(id);
    if (!job) return;
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return;
    if (state !== 'active') {
      try {
        await job.remove();
        this.emit({ id, state: 'canceled', finished: now() });
        return;
      } catch {
        // Taken by a worker meanwhile (a locked job cannot be removed): tell the worker instead.
      }
    }
    await this.client.publish(CANCEL_CHANNEL, id);
  }

  async close(): Promise<void> {
    // With redis unreachable, closing would wait for a reconnect that never comes: stop retrying, and bound the wait.
    this.stopping = true;
    await settlesWithin(Promise.allSettled([this.events?.close(), this.queue?.close()]), CLOSE_TIMEOUT_MS);
    this.client?.disconnect();
    this.events = undefined;
    this.queue = undefined;
    this.client = undefined;
  }
}

function now(): string {
  return new Date().toISOString();
}
