import { BASE64_LINE } from './serial-framing.js';

/*
 * The serial console as read: what the guest printed, matched by one waiter at a time (a login
 * prompt, a command's frame), and a tail of the guest's own lines for reports.
 */

/** Console lines kept for `tail()`: enough to show why a boot or a login failed. */
const TAIL_LINES = 200;
/** How much already-scanned text a search looks at again: a marker may have arrived in two chunks. */
const RESCAN = 256;

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]/g;

function readable(raw: string): string {
  return raw.replace(ANSI, '').replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '');
}

/**
 * The last lines of the console as a person would read them: what the guest printed itself. The
 * protocol's own lines (markers, base64 between them, the echo of the setup line) are left out, so
 * after a failure the tail still shows the boot and the guest's messages, not a screen of frames.
 */
class ConsoleTail {
  private readonly lines: string[] = [];
  private partial = '';
  private inFrame = false;

  push(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const raw of parts) this.add(raw);
  }

  private add(raw: string): void {
    const line = readable(raw);
    if (line.includes('__VMGEN_BEGIN_')) this.inFrame = true;
    if (line.includes('__VMGEN_END_')) this.inFrame = false;
    if (this.isProtocol(line)) return;
    this.lines.push(line);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
  }

  private isProtocol(line: string): boolean {
    return line.includes('__VMGEN_') || line.includes('__vmgen_run') || (this.inFrame && BASE64_LINE.test(line.trim()));
  }

  /** The line still being printed counts too: it may be the prompt a boot stopped at. */
  get(): string[] {
    const last = readable(this.partial);
    return last.trim() === '' || this.isProtocol(last) ? [...this.lines] : [...this.lines, last].slice(-TAIL_LINES);
  }
}

export type Matcher<T> = (text: string, from: number) => { value: T; end: number } | undefined;

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** For the timeout's message: "the login prompt". */
  what: string;
  /** For the timeout's message, when this wait has what is left of a larger budget (a login's). */
  budgetMs?: number;
}

interface Waiter {
  match: Matcher<unknown>;
  scanned: number;
  settle(err: unknown, value?: unknown): void;
}

export class ConsoleReader {
  readonly tail = new ConsoleTail();
  private text = '';
  private waiter: Waiter | undefined;
  private closed: Error | undefined;
  lastOutputAt = Date.now();

  push(chunk: string): void {
    this.text += chunk;
    this.lastOutputAt = Date.now();
    this.tail.push(chunk);
    this.check();
  }

  close(err: Error): void {
    this.closed ??= err;
    this.waiter?.settle(err);
  }

  /** Resolves with the first match after what earlier waits consumed, and consumes up to it. */
  waitFor<T>(match: Matcher<T>, opts: WaitOptions): Promise<T> {
    if (this.waiter) return Promise.reject(new Error('serial console: two waits at once'));
    if (this.closed) return Promise.reject(this.closed);
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => waiter.settle(opts.signal?.reason);
      const timer = setTimeout(() => waiter.settle(new Error(`no ${opts.what} on the serial console within ${(opts.budgetMs ?? opts.timeoutMs) / 1000} s`)), opts.timeoutMs);
      const waiter: Waiter = {
        match, scanned: 0,
        settle: (err, value) => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          if (this.waiter === waiter) this.waiter = undefined;
          if (err === undefined) resolve(value as T);
          else reject(err);
        },
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = waiter;
      this.check();
    });
  }

  private check(): void {
    const w = this.waiter;
    if (w === undefined) return;
    try {
      const hit = w.match(this.text, Math.max(0, w.scanned - RESCAN));
      w.scanned = this.text.length;
      if (hit === undefined) return;
      this.text = this.text.slice(hit.end);
      w.settle(undefined, hit.value);
    } catch (err) {
      w.settle(err);
    }
  }
}

export function regexMatcher(re: RegExp): Matcher<RegExpExecArray> {
  const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  return (text, from) => {
    global.lastIndex = from;
    const m = global.exec(text);
    return m === null ? undefined : { value: m, end: m.index + m[0].length };
  };
}

export function markerMatcher(text: string): Matcher<true> {
  return (all, from) => {
    const at = all.indexOf(text, from);
    return at < 0 ? undefined : { value: true, end: at + text.length };
  };
}
