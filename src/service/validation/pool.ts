import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, Worker, type ResourceLimits } from 'node:worker_threads';
import { ERROR_CODES, VmgenError, type ErrorCode } from '../../errors.js';

/**
 * A small fixed pool of worker threads, each running one task at a time, with a time budget per
 * task. A task over its budget cannot be interrupted inside a thread (a regular expression that
 * backtracks never yields), so its worker is terminated and replaced: the request thread stays free
 * whatever the task does. Tasks and answers are plain data (structured clone).
 */
export interface PoolOptions {
  /** The worker's module; it calls serveWorker(). */
  entry: URL;
  workerData?: unknown;
  size: number;
  /** Budget of one task, from when a worker takes it. */
  timeoutMs: number;
  /** Tasks that may wait for a worker; more are refused (VMG_BUSY). */
  maxQueue: number;
  /** Tasks one key (a user) may have waiting or running at once; more are refused (VMG_RATE_LIMITED). */
  maxPerKey?: number;
  /** Heap limit of a worker: a text that makes the parser allocate without end fails, not the server. */
  maxHeapMb?: number;
  /** The error a task over its budget (time or memory) ends with. */
  overBudget: (what: 'time' | 'memory' | 'depth') => VmgenError;
}

interface Job {
  id: number;
  task: unknown;
  key: string | undefined;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: SerializedError };

interface SerializedError {
  message: string;
  code?: string;
  hint?: string;
  diagnostics?: VmgenError['diagnostics'];
  /** The thread ran out of stack (deeply nested input): the input's fault, not the code's. */
  stack?: boolean;
}

/**
 * Under tsx (tests, development) a worker does not inherit the loader, so a .ts entry is started
 * through a one-line module that registers tsx first; from dist/ the .js entry starts directly.
 */
function startWorker(entry: URL, options: { workerData?: unknown; resourceLimits?: ResourceLimits }): Worker {
  if (extname(fileURLToPath(entry)) !== '.ts') return new Worker(entry, options);
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}

export class WorkerPool<T, R> {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private readonly perKey = new Map<string, number>();
  private nextId = 1;
  private closed = false;
  private lastKey: string | undefined;

  constructor(private readonly o: PoolOptions) {
    if (!Number.isInteger(o.size) || o.size < 1) throw new VmgenError('VMG_USAGE', `a worker pool needs at least one worker, not ${o.size}`);
  }

  run(task: T, key?: string): Promise<R> {
    if (this.closed) return Promise.reject(new VmgenError('VMG_BUSY', 'the server is shutting down'));
    if (key !== undefined && this.o.maxPerKey !== undefined && (this.perKey.get(key) ?? 0) >= this.o.maxPerKey) {
      return Promise.reject(new VmgenError('VMG_RATE_LIMITED', `you have ${this.o.maxPerKey} configs being checked already`,
        { hint: 'wait for their answers before sending more' }));
    }
    if (this.queue.length >= this.o.maxQueue) {
      return Promise.reject(new VmgenError('VMG_BUSY', 'too many configs are waiting to be checked', { hint: 'try again in a few seconds' }));
    }
    return new Promise<R>((resolve, reject) => {
      if (key !== undefined) this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
      const done = (): void => {
        if (key === undefined) return;
        const n = (this.perKey.get(key) ?? 1) - 1;
        if (n <= 0) this.perKey.delete(key);
        else this.perKey.set(key, n);
      };
      this.queue.push({
        id: this.nextId++, task, key,
        resolve: (v) => { done(); resolve(v as R); },
        reject: (e) => { done(); reject(e); },
      });
      this.dispatch();
    });
  }

  /** Workers alive now (started or starting), for tests. */
  get workers(): number {
    return this.slots.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new VmgenError('VMG_BUSY', 'the server is shutting down'));
    const slots = [...this.slots];
    this.slots.clear();
    for (const s of slots) {
      clearTimeout(s.timer);
      s.job?.reject(new VmgenError('VMG_BUSY', 'the server is shutting down'));
      s.job = undefined;
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.ready && !slot.job) this.assign(slot, this.queue.splice(this.nextIndex(), 1)[0]!);
    }
    const starting = [...this.slots].filter((s) => !s.ready).length;
    for (let i = starting; i < this.queue.length && this.slots.size < this.o.size; i++) this.spawn();
  }

  /**
   * Fair turns: the waiting task whose key has the fewest tasks running, and of those not the key
   * served last, so one user's burst cannot keep the workers from everyone else; else the oldest.
   */
  private nextIndex(): number {
    const running = new Map<string, number>();
    for (const s of this.slots) if (s.job?.key !== undefined) running.set(s.job.key, (running.get(s.job.key) ?? 0) + 1);
    let best = 0;
    let bestScore = Infinity;
    this.queue.forEach((j, i) => {
      const score = j.key === undefined ? 0 : (running.get(j.key) ?? 0) + (j.key === this.lastKey ? 0.5 : 0);
      if (score < bestScore) {
        best = i;
        bestScore = score;
      }
    });
    return best;
  }

  private assign(slot: Slot, job: Job): void {
    slot.job = job;
    this.lastKey = job.key;
    slot.worker.ref();
    slot.timer = setTimeout(() => {
      slot.job = undefined;
      job.reject(this.o.overBudget('time'));
      this.retire(slot);
    }, this.o.timeoutMs);
    slot.worker.postMessage({ id: job.id, task: job.task });
  }

  private spawn(): void {
    const worker = startWorker(this.o.entry, {
      ...(this.o.workerData !== undefined ? { workerData: this.o.workerData } : {}),
      ...(this.o.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: this.o.maxHeapMb, maxYoungGenerationSizeMb: Math.max(8, Math.round(this.o.maxHeapMb / 8)) } } : {}),
    });
    const slot: Slot = { worker, ready: false };
    this.slots.add(slot);
    worker.unref();
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') {
        slot.ready = true;
        this.dispatch();
        return;
      }
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      clearTimeout(slot.timer);
      slot.job = undefined;
      worker.unref();
      if (m.ok) job.resolve(m.value);
      else job.reject(this.toError(m.error));
      this.dispatch();
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const job = slot.job;
      slot.job = undefined;
      clearTimeout(slot.timer);
      if (job) {
        job.reject(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? this.o.overBudget('memory')
          : new VmgenError('VMG_INTERNAL', `the config checker failed: ${err.message}`, { cause: err }));
      } else if (!slot.ready) {
        // A worker that cannot even start would fail every replacement too: the waiting tasks fail now.
        for (const j of this.queue.splice(0)) j.reject(new VmgenError('VMG_INTERNAL', `the config checker cannot start: ${err.message}`, { cause: err }));
      }
      this.retire(slot);
    });
    worker.on('exit', () => {
      const job = slot.job;
      slot.job = undefined;
      clearTimeout(slot.timer);
      job?.reject(new VmgenError('VMG_INTERNAL', 'the config checker ended during a check'));
      if (this.slots.delete(slot)) this.dispatch();
    });
  }

  private retire(slot: Slot): void {
    this.slots.delete(slot);
    void slot.worker.terminate();
    this.dispatch();
  }

  private toError(e: SerializedError): VmgenError {
    if (e.stack) return this.o.overBudget('depth');
    const code = (e.code !== undefined && e.code in ERROR_CODES ? e.code : 'VMG_INTERNAL') as ErrorCode;
    return new VmgenError(code, e.message, { ...(e.hint ? { hint: e.hint } : {}), ...(e.diagnostics ? { diagnostics: e.diagnostics } : {}) });
  }
}

/** The worker's side: answers every task with handle(task), or with the error it threw. */
export function serveWorker(handle: (task: unknown) => unknown): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorker runs in a worker thread');
  port.on('message', (m: { id: number; task: unknown }) => {
    try {
      port.postMessage({ type: 'result', id: m.id, ok: true, value: handle(m.task) });
    } catch (err) {
      const e = err as Error;
      const error: SerializedError = err instanceof VmgenError
        ? { message: e.message, code: err.code, ...(err.hint ? { hint: err.hint } : {}), ...(err.diagnostics ? { diagnostics: err.diagnostics } : {}) }
        : { message: e instanceof Error ? e.message : String(err), ...(e instanceof RangeError && /call stack/i.test(e.message) ? { stack: true } : {}) };
      port.postMessage({ type: 'result', id: m.id, ok: false, error });
    }
  });
  port.postMessage({ type: 'ready' });
}
