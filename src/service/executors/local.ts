import { VmgenError } from '../../errors.js';
import type { Runner } from '../runner/run.js';
import type { BuildRequest, BuildUpdate, Executor } from '../types.js';

export interface LocalExecutorOptions {
  concurrency: number;
  runner: Runner;
  /** Reported as `worker` of every build this executor runs. */
  worker: string;
  /** Runs once in start(), before any build (e.g. removing a killed process's temp output). */
  prepare?: () => Promise<void>;
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Builds in this process's machine: a FIFO queue and `concurrency` slots, each build run by the
 * runner (in its own process). Nothing here is locked: builds share only the layer cache, whose
 * fills lock themselves, one lock per layer. A build gives its slot back as soon as its process
 * has exited (the runner's releaseSlot): storing its archive mostly waits on the disk, and the next
 * build can use the CPU meanwhile. So up to `concurrency` builds build and as many store.
 */
export class LocalExecutor implements Executor {
  private readonly queue: BuildRequest[] = [];
  private readonly running = new Map<string, Running>();
  /** Builds holding a slot: running, and not yet past their own work. */
  private busy = 0;
  /** Builds past their own work, storing their archive (they gave their slot back). */
  private storing = 0;
  private onUpdate: ((u: BuildUpdate) => void) | undefined;
  /** Updates made before start() (a submit that came first), delivered when it is called. */
  private early: BuildUpdate[] = [];
  private closed = false;

  constructor(private readonly opts: LocalExecutorOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
      throw new VmgenError('VMG_USAGE', `concurrency must be a whole number from 1, not ${opts.concurrency}`);
    }
  }

  async start(onUpdate: (u: BuildUpdate) => void): Promise<void> {
    await this.opts.prepare?.();
    this.onUpdate = onUpdate;
    const early = this.early;
    this.early = [];
    for (const u of early) this.emit(u);
    this.pump();
  }

  async submit(req: BuildRequest): Promise<void> {
    if (this.closed) throw new VmgenError('VMG_QUEUE', 'the executor is closed');
    if (this.running.has(req.id) || this.queue.some((q) => q.id === req.id)) {
      throw new VmgenError('VMG_USAGE', `build ${req.id} is already queued or running`);
    }
    this.queue.push(req);
    this.emit({ id: req.id, state: 'queued' });
    this.pump();
  }

  async cancel(id: string): Promise<void> {
    const at = this.queue.findIndex((q) => q.id === id);
    if (at !== -1) {
      this.queue.splice(at, 1);
      this.emit({ id, state: 'canceled', finished: now() });
      return;
    }
    this.running.get(id)?.controller.abort(new Error('cancelled'));
  }

  /** Queued builds are dropped without an update (the service's table still has them queued); running ones are cancelled. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    const running = [...this.running.values()];
    for (const r of running) r.controller.abort(new Error('the executor is closing'));
    await Promise.all(running.map((r) => r.done));
  }

  /** Ids of the builds waiting and running, for tests and metrics. */
  snapshot(): { queued: string[]; running: string[] } {
    return { queued: this.queue.map((q) => q.id), running: [...this.running.keys()] };
  }

  private emit(u: BuildUpdate): void {
    if (!this.onUpdate) {
      this.early.push(u);
      return;
    }
    try {
      this.onUpdate(u);
    } catch {
      // A listener's failure must not stall the queue; the service logs its own errors.
    }
  }

  private pump(): void {
    if (!this.onUpdate || this.closed) return;
    while (this.busy < this.opts.concurrency && this.queue.length > 0) {
      const req = this.queue.shift()!;
      const controller = new AbortController();
      const entry: Running = { controller, done: Promise.resolve() };
      this.running.set(req.id, entry);
      this.busy++;
      let phase: 'building' | 'storing' | 'done' = 'building';
      // At most `concurrency` builds store at once too, so a slow store (S3) cannot pile up archives.
      const release = (): void => {
        if (phase !== 'building' || this.storing >= this.opts.concurrency) return;
        phase = 'storing';
        this.busy--;
        this.storing++;
        this.pump();
      };
      entry.done = this.run(req, controller.signal, release).finally(() => {
        this.running.delete(req.id);
        if (phase === 'building') this.busy--;
        else if (phase === 'storing') this.storing--;
        phase = 'done';
        this.pump();
      });
    }
  }

  private async run(req: BuildRequest, signal: AbortSignal, releaseSlot: () => void): Promise<void> {
    const id = req.id;
    this.emit({ id, state: 'running', started: now(), worker: this.opts.worker, progress: 0 });
    try {
      const artifact = await this.opts.runner(req, { signal, onUpdate: (u) => this.emit({ ...u, id }), releaseSlot });
      // A cancel that came after the archive was stored is too late: the build is whole, and says so.
      this.emit({ id, state: 'succeeded', finished: now(), progress: 1, artifact });
    } catch (err) {
      if (signal.aborted || (err instanceof VmgenError && err.code === 'VMG_CANCELLED')) {
        this.emit({ id, state: 'canceled', finished: now() });
        return;
      }
      const e = err instanceof VmgenError ? err : new VmgenError('VMG_BUILD', err instanceof Error ? err.message : String(err));
      this.emit({ id, state: 'failed', finished: now(), error: e.message, errorCode: e.code });
    }
  }
}

function now(): string {
  return new Date().toISOString();
}
