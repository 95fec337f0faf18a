import { VmgenError } from '../errors.js';
import type { BuildRow, ServiceDb, User } from './db.js';
import type { RequestFiles } from './request-files.js';
import type { RunCommand } from '../targets/types.js';
import type { BuildEvents } from './events.js';
import type { Metrics } from './metrics.js';
import { newBuildId } from './routes/common.js';
import { isFinalState, type ArtifactStore, type BuildUpdate, type Executor, type LabJobRequest } from './types.js';
import { LabJobs } from './labs/lab-jobs.js';

/** What a silent logger must offer; pino's satisfies it. */
export interface JobsLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const silent: JobsLog = { info() {}, warn() {}, error() {} };

export const INTERRUPTED = 'the server stopped during the build';

/** How long DELETE waits for a running build to wind down before answering 202 (still stopping). */
const CANCEL_WAIT_MS = 10_000;

export interface JobsOptions {
  db: ServiceDb;
  executor: Executor;
  store: ArtifactStore;
  events: BuildEvents;
  metrics: Metrics;
  maxQueuedPerUser: number;
  log?: JobsLog;
  /** How long DELETE waits for a running build to end (default CANCEL_WAIT_MS). */
  cancelWaitMs?: number;
}

/**
 * The job table's owner: every change to a build goes through here, into SQLite first and then to
 * the followers (SSE) and metrics. The executor only reports; this decides what sticks.
 */
export class Jobs {
  private readonly log: JobsLog;
  /** Builds a user cancelled: their 'canceled' is theirs. Any other cancel comes from a shutdown. */
  private readonly userCanceled = new Set<string>();
  private stopping = false;

  /** The labs whose jobs these are: told when one of their jobs ends. */
  readonly labs: LabJobs;

  constructor(private readonly o: JobsOptions) {
    this.log = o.log ?? silent;
    this.labs = new LabJobs({ db: o.db, jobs: this, maxQueuedPerUser: o.maxQueuedPerUser, log: this.log });
  }

  onUpdate = (u: BuildUpdate): void => {
    if (!this.o.db.db.open) return;
    let update = u;
    if (u.state === 'canceled' && this.stopping && !this.userCanceled.has(u.id)) {
      // Shutting down cancels running builds; to their owner that is an interruption, not a cancel.
      update = { ...u, state: 'failed', error: INTERRUPTED, errorCode: 'VMG_INTERRUPTED' };
    } else if (u.state === 'canceled' && !u.error) {
      update = { ...u, error: this.userCanceled.has(u.id) ? 'cancelled by its owner' : 'cancelled', errorCode: 'VMG_CANCELLED' };
    }
    let applied;
    try {
      applied = this.o.db.applyUpdate(update);
    } catch (err) {
      this.log.error({ build: u.id, err: (err as Error).message }, 'cannot record a build update');
      return;
    }
    if (!applied) {
      this.log.warn({ build: u.id }, 'update for a build not in the job table');
      return;
    }
    const { build, log, finished, orphanArtifact } = applied;
    if (log.length) this.o.events.publish(build.id, { kind: 'log', lines: log });
    const { id: _id, log: _log, ...fields } = update;
    if (Object.keys(fields).length > 0) this.o.events.publish(build.id, { kind: 'update', build });
    if (finished) {
      this.userCanceled.delete(build.id);
      if (build.lab !== null) this.labs.jobEnded(build);
      const seconds = build.started && build.finished ? (Date.parse(build.finished) - Date.parse(build.started)) / 1000 : undefined;
      this.o.metrics.buildFinished(build.state, seconds);
      this.log.info({ build: build.id, owner: build.owner, state: build.state, seconds, errorCode: build.errorCode ?? undefined }, 'build ended');
    }
    if (orphanArtifact) {
      // An archive stored for a build that had already ended (cancelled while being stored): nobody can fetch it.
      this.o.store.delete(orphanArtifact.key).catch((err: Error) => this.log.warn({ key: orphanArtifact.key, err: err.message }, 'cannot delete an orphan artifact'));
    }
  };

  /**
   * `counted`: the caller held the request to the queue limit already (a lab is one submission,
   * however many machines it has; see labs/lab-jobs.ts).
   */
  async submit(user: User, input: { config: string; target: string; format: string; name: string; steps: readonly string[]; run?: readonly RunCommand[]; files?: RequestFiles; lab?: LabJobRequest },
    counted = false): Promise<BuildRow> {
    const { db, executor, maxQueuedPerUser } = this.o;
    const queued = db.countInState(user.id, 'queued');
    if (!counted && queued >= maxQueuedPerUser) {
      throw new VmgenError('VMG_QUEUE_FULL', `you have ${queued} builds waiting; the limit is ${maxQueuedPerUser}`,
        { hint: 'wait for some to start, or cancel some (DELETE /api/builds/ID)' });
    }
    const { lab, ...fields } = input;
    // A lab's jobs read the lab's files, kept once for the lab, not once per job.
    const row = db.insertBuild({ id: newBuildId(), owner: user.name, ownerId: user.id, created: new Date().toISOString(), ...fields, ...(lab ? { lab: lab.lab, files: undefined } : {}) });
    this.o.events.publish(row.id, { kind: 'update', build: row });
    this.log.info({ build: row.id, owner: user.name, target: row.target }, 'build submitted');
    try {
      await executor.submit({ id: row.id, owner: row.owner, config: row.config, target: row.target, format: row.format, ...(input.files ? { files: input.files } : {}), ...(lab ? { lab } : {}) });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.fail(row.id, `the build could not be queued: ${message}`, err instanceof VmgenError ? err.code : 'VMG_QUEUE');
      throw new VmgenError('VMG_QUEUE', `the build could not be queued: ${message}`, { cause: err });
    }
    return db.getBuild(row.id) ?? row;
  }

  /** Cancels a queued or running build; answers with the build as it is once the executor let go (or after a wait). */
  async cancel(row: BuildRow): Promise<BuildRow> {
    this.userCanceled.add(row.id);
    if (row.state === 'queued') {
      // Final at once: whatever the executor does with it now (even start it), the table says cancelled.
      this.record({ id: row.id, state: 'canceled', finished: new Date().toISOString(), error: 'cancelled by its owner', errorCode: 'VMG_CANCELLED' });
    }
    // A running build ends when its cleanups have run (unmounts, temp files); the caller is told
    // the outcome if that takes less than CANCEL_WAIT_MS, else that it is still on its way (202).
    let timer: NodeJS.Timeout | undefined;
    let unsubscribe = (): void => {};
    const ended = new Promise<void>((ok) => {
      timer = setTimeout(ok, this.o.cancelWaitMs ?? CANCEL_WAIT_MS);
      unsubscribe = this.o.events.subscribe(row.id, (e) => {
        if (e.kind === 'close' || (e.kind === 'update' && isFinalState(e.build.state))) ok();
      });
    });
    try {
      await this.o.executor.cancel(row.id).catch((err: Error) => this.log.warn({ build: row.id, err: err.message }, 'the executor could not cancel a build'));
      const now = this.o.db.getBuild(row.id);
      if (now && !isFinalState(now.state)) await ended;
    } finally {
      clearTimeout(timer);
      unsubscribe();
    }
    return this.o.db.getBuild(row.id) ?? row;
  }

  /** Deletes a build that has ended, its artifact first: a row without its file is fine, a file without its row is litter. */
  async remove(row: BuildRow): Promise<void> {
    if (!isFinalState(row.state)) throw new VmgenError('VMG_USAGE', `build ${row.id} is ${row.state}; cancel it first`);
    if (row.artifact) await this.o.store.delete(row.artifact.key);
    this.o.db.deleteBuild(row.id);
    this.o.events.publish(row.id, { kind: 'close' });
    this.log.info({ build: row.id }, 'build deleted');
  }

  /**
   * Start-up with the local executor: a build the table says is running was running in the process
   * that stopped (its build process follows its parent and ends itself). It is failed with a reason,
   * not re-run: a build that killed the server once would otherwise do it on every start. Queued
   * builds lost nothing and go to the executor again, in the order they came.
   */
  recoverInterrupted(): BuildRow[] {
    const failed: BuildRow[] = [];
    for (const row of this.o.db.buildsInState('running')) {
      this.fail(row.id, INTERRUPTED, 'VMG_INTERRUPTED');
      if (row.artifact) {
        this.o.db.clearArtifact(row.id);
        this.o.store.delete(row.artifact.key).catch(() => {});
      }
      failed.push(row);
    }
    if (failed.length) this.log.warn({ builds: failed.map((r) => r.id) }, `marked ${failed.length} interrupted build(s) failed`);
    return failed;
  }

  async resubmitQueued(): Promise<number> {
    const rows = this.o.db.buildsInState('queued');
    for (const row of rows) {
      try {
        const lab = row.lab === null ? undefined : this.labs.request(row);
        const files = row.lab === null ? this.o.db.buildFiles(row.id) : this.o.db.labFiles(row.lab);
        await this.o.executor.submit({ id: row.id, owner: row.owner, config: row.config, target: row.target, format: row.format, ...(files ? { files } : {}), ...(lab ? { lab } : {}) });
      } catch (err) {
        this.fail(row.id, `the build could not be queued again after a restart: ${(err as Error).message}`, 'VMG_QUEUE');
      }
    }
    if (rows.length) this.log.info({ builds: rows.length }, 're-submitted queued builds');
    return rows.length;
  }

  /**
   * Start-up with the build queue: its workers went on while this server was down, and the events
   * of that time are gone. The queue is asked about every build the table still has open.
   */
  async resyncOpen(): Promise<number> {
    if (!this.o.executor.resync) return 0;
    const ids = [...this.o.db.buildsInState('running'), ...this.o.db.buildsInState('queued')].map((r) => r.id);
    if (ids.length === 0) return 0;
    try {
      await this.o.executor.resync(ids);
    } catch (err) {
      // Serving goes on: the queue's events still bring what happens from now on.
      this.log.error({ err: (err as Error).message }, 'cannot ask the build queue about builds open before the restart');
      return 0;
    }
    this.log.info({ builds: ids.length }, 'asked the build queue about builds open before the restart');
    return ids.length;
  }

  /** From now on, cancels that no user asked for are interruptions (see onUpdate). */
  stop(): void {
    this.stopping = true;
  }

  private fail(id: string, message: string, code: string): void {
    this.record({ id, state: 'failed', finished: new Date().toISOString(), error: message, errorCode: code });
  }

  private record(u: BuildUpdate): void {
    this.onUpdate(u);
  }
}
