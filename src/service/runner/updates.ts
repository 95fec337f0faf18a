import type { BuildUpdate } from '../types.js';
import type { WireStepEvent } from './protocol.js';

export type UpdateFields = Omit<BuildUpdate, 'id'>;

/** The smallest change in overall progress worth an update; finer steps would only add traffic. */
const PROGRESS_STEP = 0.01;
const LOG_BATCH_LINES = 200;
const LOG_BATCH_MS = 250;

/**
 * Turns a build's step events and log lines into BuildUpdates: the step's name, overall progress
 * 0..1 from the step's place in the list and its own fraction, and log lines in batches (at most
 * every LOG_BATCH_MS or LOG_BATCH_LINES lines). Pending lines always go out before a step change,
 * so a reader sees each line under the step that wrote it.
 */
export class UpdateMapper {
  private lines: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastProgress = -1;
  private current: { index: number; total: number } | undefined;

  constructor(private readonly emit: (u: UpdateFields) => void, private readonly batchMs = LOG_BATCH_MS) {}

  event(e: WireStepEvent): void {
    switch (e.kind) {
      case 'start':
        this.current = { index: e.index, total: e.total };
        this.send({ step: e.step, progress: e.index / e.total }, true);
        break;
      case 'progress':
        if (this.current) this.send({ progress: (this.current.index + clamp01(e.fraction)) / this.current.total });
        break;
      case 'skip':
      case 'done':
        this.send({ progress: (e.index + 1) / e.total });
        break;
      case 'cleanup-failed':
        this.log(`cleanup of ${e.step} failed: ${e.error}`);
        break;
    }
  }

  log(line: string): void {
    this.lines.push(line);
    if (this.lines.length >= LOG_BATCH_LINES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  /** Sends pending log lines now; call before reporting the build's end. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.lines.length === 0) return;
    const log = this.lines;
    this.lines = [];
    this.emit({ log });
  }

  private send(u: UpdateFields, always = false): void {
    const p = u.progress;
    if (!always && p !== undefined && Math.abs(p - this.lastProgress) < PROGRESS_STEP) return;
    this.flush();
    if (p !== undefined) this.lastProgress = p;
    this.emit(u);
  }
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
