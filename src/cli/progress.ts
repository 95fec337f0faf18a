import type { StepEvent } from '../steps/run-steps.js';

interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Shows a build's steps on stderr. On a terminal: the step list with a bar on the running step,
 * redrawn in place. Elsewhere (CI logs, pipes): one plain line per event, nothing redrawn.
 */
export class StepReporter {
  private readonly tty: boolean;
  private current: { name: string; index: number; total: number; fraction: number; started: number; detail: string } | undefined;
  private lastPlainPercent = -1;

  constructor(private readonly out: ProgressStream, tty?: boolean) {
    this.tty = tty ?? out.isTTY === true;
  }

  onEvent = (e: StepEvent): void => {
    switch (e.kind) {
      case 'start':
        this.current = { name: e.step, index: e.index, total: e.total, fraction: 0, started: Date.now(), detail: '' };
        this.lastPlainPercent = -1;
        if (this.tty) this.redraw();
        else this.out.write(`[${e.index + 1}/${e.total}] ${e.step}\n`);
        break;
      case 'progress':
        if (!this.current) return;
        this.current.fraction = e.fraction;
        if (this.tty) this.redraw();
        else this.plainPercent(e.fraction);
        break;
      case 'skip':
        this.line(`[${e.index + 1}/${e.total}] ${e.step}: skipped`);
        break;
      case 'done':
        this.clear();
        this.out.write(`[${e.index + 1}/${e.total}] ${e.step}: done in ${(e.ms / 1000).toFixed(1)} s\n`);
        this.current = undefined;
        break;
      case 'cleanup-failed':
        this.line(`cleanup of ${e.step} failed: ${e.error instanceof Error ? e.error.message : String(e.error)}`);
        break;
    }
  };

  /** A line of detail from the running step (a tool's own output). Plain mode prints it; a TTY shows it on the bar. */
  detail(text: string): void {
    if (this.tty && this.current) {
      this.current.detail = text;
      this.redraw();
    } else {
      this.out.write(`    ${text}\n`);
    }
  }

  /** A message that must stay visible (cache hits, warnings). */
  line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
    if (this.tty && this.current) this.redraw();
  }

  finish(): void {
    this.clear();
  }

  private plainPercent(fraction: number): void {
    const pct = Math.floor(fraction * 10) * 10;
    if (pct <= this.lastPlainPercent) return;
    this.lastPlainPercent = pct;
    this.out.write(`    ${pct}%\n`);
  }

  private clear(): void {
    if (this.tty) this.out.write('\r\x1b[2K');
  }

  private redraw(): void {
    const c = this.current;
    if (!c) return;
    const width = 24;
    const filled = Math.round(c.fraction * width);
    const secs = ((Date.now() - c.started) / 1000).toFixed(0);
    const head = `[${c.index + 1}/${c.total}] ${c.name} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${secs}s `;
    const room = Math.max(0, (this.out.columns ?? 100) - head.length - 1);
    this.out.write(`\r\x1b[2K${head}${c.detail.slice(0, room)}`);
  }
}
