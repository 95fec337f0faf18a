import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { CommandError, type RunResult } from '../exec/run.js';
import { GUEST_ENV, READ_SCRIPT, REMOVE_SCRIPT, SYMLINK_SCRIPT, WRITE_SCRIPT, scriptArgv } from './command.js';
import type { Communicator } from './types.js';

/*
 * A guest reached only through its serial console (a VM under qemu, before any network is up).
 * A console is one byte stream shared with the kernel and getty, so every command is framed:
 *
 *   - Nothing from the caller is ever typed as shell text. The arguments (NUL-terminated) and
 *     stdin travel as two base64 tokens ([A-Za-z0-9+/=], prefixed with "x" so an empty value is
 *     still a word), given to a constant shell function defined once after login, which decodes
 *     them and hands the arguments to xargs -0 as data.
 *   - The guest answers with markers around base64 of stdout and stderr, and ends with the exit
 *     status and both byte counts. Markers are printed from a printf format, so the echo of a
 *     command line never contains one; the byte counts catch a kernel message that landed inside
 *     the output.
 *   - Commands run one at a time (a queue): a console has one shell.
 */

/** Console lines kept for `tail()`: enough to show why a boot or a login failed. */
const TAIL_LINES = 200;
/** A tty in canonical mode drops what goes past 4095 bytes of a line; longer payloads go in chunks. */
const MAX_LINE = 2000;
const COMMAND_TIMEOUT_MS = 120_000;
/** getty prints its prompt once; if a kernel message garbled it, an empty line makes it print another. */
const NUDGE_AFTER_MS = 15_000;
/** How much already-scanned text a search looks at again: a marker may have arrived in two chunks. */
const RESCAN = 256;

// ---------------------------------------------------------------------------------------------
// The protocol: pure, so tests can drive it with a real shell or a fake guest.

function marker(kind: string, nonce: string): string {
  return `__VMGEN_${kind}_${nonce}__`;
}

/** printf's arguments for a marker: the format holds `%s` where the kind and nonce go. */
const MARK_FORMAT = "'__VMGEN_%s_%s__\\n'";

function guestEnvWords(): string {
  return Object.entries(GUEST_ENV).map(([k, v]) => {
    const word = `${k}=${v}`;
    // Constants of vmgen's own; the check keeps a future value from needing shell quoting.
    if (!/^[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9_.:/-]*$/.test(word)) throw new Error(`GUEST_ENV entry needs quoting: ${word}`);
    return word;
  }).join(' ');
}

/**
 * `__vmgen_run NONCE INPUT ARGV` (or `NONCE @` to read both from the chunk file): INPUT is stdin,
 * ARGV the arguments, each NUL-terminated, both base64. xargs -0 turns the decoded arguments into
 * argv as they are, with no shell in between; `-a` leaves the command's stdin free for the input,
 * and the inner sh records the command's own status on fd 3 (xargs would fold it into 123). One
 * decode per command, not one per argument: each process costs tens of milliseconds under TCG.
 * A subshell body, so `set -f` and the variables stay out of the login shell.
 */
export const RUN_FUNCTION = [
  '__vmgen_run() ( n=$1; umask 077; set -f; unset IFS',
  'f=/tmp/.vmgen-$n.args; if [ "$2" = @ ]; then read -r i a < "$f"; rm -f "$f"; else i=$2; a=$3; fi',
  `d=$(mktemp -d /tmp/.vmgen-XXXXXXXX) || { printf '__VMGEN_%s_%s__\\n__VMGEN_%s_%s__\\n__VMGEN_%s_%s_%s_%s_%s__\\n' BEGIN "$n" ERR "$n" END "$n" 125 0 0; exit; }`,
  ': > "$d/in"; [ "$i" = x ] || printf %s "${i#x}" | base64 -d > "$d/in"',
  'printf %s "${a#x}" | base64 -d > "$d/argv"',
  `xargs -0 -x -a "$d/argv" env -i ${guestEnvWords()} sh -c '"$@" 3>&-; echo $? >&3' vmgen < "$d/in" > "$d/out" 2> "$d/err" 3> "$d/s"`,
  's=126; if [ -s "$d/s" ]; then read -r s < "$d/s"; fi',
  `printf ${MARK_FORMAT} BEGIN "$n"; if [ -s "$d/out" ]; then base64 "$d/out"; fi; printf ${MARK_FORMAT} ERR "$n"; if [ -s "$d/err" ]; then base64 "$d/err"; fi`,
  'set -- $(wc -c "$d/out" "$d/err")',
  `printf '__VMGEN_%s_%s_%s_%s_%s__\\n' END "$n" "$s" "$1" "$3"; rm -rf "$d" )`,
].join('; ');

/** Typed once after login: a shell that echoes nothing, prompts with nothing and keeps no history. */
export function setupLine(nonce: string): string {
  return [
    'stty -echo', 'export PS1= PS2= TERM=dumb', 'unset PROMPT_COMMAND HISTFILE',
    // Kernel messages on the console would land inside command output.
    'dmesg -n 1 2>/dev/null', RUN_FUNCTION, `printf ${MARK_FORMAT} READY ${nonce}`,
  ].join('; ');
}

export function encodeToken(value: string | Uint8Array): string {
  return `x${Buffer.from(value).toString('base64')}`;
}

export interface CommandLines {
  /** Lines that store a long payload in the guest, each answered by an ACK marker (`ackMarker`). */
  chunks: string[];
  /** The line that runs the command. */
  call: string;
}

export function ackMarker(nonce: string, index: number): string {
  return marker('ACK', `${nonce}_${index}`);
}

/** The console lines that run argv with input: base64 tokens and constant text, nothing else. */
export function commandLines(nonce: string, argv: readonly string[], input: string | Uint8Array = ''): CommandLines {
  if (argv.some((a) => a.includes('\0'))) throw new Error('an argument contains a NUL byte, which no command can receive');
  const payload = `${encodeToken(input)} ${encodeToken(argv.map((a) => `${a}\0`).join(''))}`;
  if (payload.length <= MAX_LINE) return { chunks: [], call: `__vmgen_run ${nonce} ${payload}` };
  const chunks: string[] = [];
  for (let i = 0, at = 0; at < payload.length; i++, at += MAX_LINE) {
    // Base64, "x" and a space only, so single quotes hold any piece as is.
    const piece = payload.slice(at, at + MAX_LINE);
    chunks.push(`printf %s '${piece}' ${i === 0 ? '>' : '>>'} /tmp/.vmgen-${nonce}.args && printf '__VMGEN_%s_%s_%s__\\n' ACK ${nonce} ${i}`);
  }
  return { chunks, call: `__vmgen_run ${nonce} @` };
}

export interface Frame {
  status: number;
  stdout: Buffer;
  stderr: Buffer;
}

const BASE64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Base64 lines only: whatever else the console printed between two markers is not output. */
function decodeLines(text: string): Buffer {
  const lines = text.split(/\r?\n|\r/).map((l) => l.trim()).filter((l) => BASE64_LINE.test(l));
  return Buffer.from(lines.join(''), 'base64');
}

/**
 * Finds the frame of the command with this nonce in console text. Undefined while its end marker
 * has not arrived; `end` is where the frame ends, so the caller can drop what it has read.
 */
export function parseFrame(text: string, nonce: string, from = 0): { frame: Frame; end: number } | undefined {
  const endRe = new RegExp(`__VMGEN_END_${nonce}_(\\d+)_(\\d+)_(\\d+)__`, 'g');
  endRe.lastIndex = from;
  const m = endRe.exec(text);
  if (m === null) return undefined;
  const begin = text.lastIndexOf(marker('BEGIN', nonce), m.index);
  const err = text.lastIndexOf(marker('ERR', nonce), m.index);
  if (begin < 0 || err < begin) throw new Error('the console lost the start of a command\'s output');
  const stdout = decodeLines(text.slice(begin + marker('BEGIN', nonce).length, err));
  const stderr = decodeLines(text.slice(err + marker('ERR', nonce).length, m.index));
  if (stdout.length !== Number(m[2]) || stderr.length !== Number(m[3])) {
    throw new Error(`the console garbled a command's output (${stdout.length} of ${m[2]} bytes of stdout, ${stderr.length} of ${m[3]} of stderr arrived)`);
  }
  return { frame: { status: Number(m[1]), stdout, stderr }, end: m.index + m[0].length };
}

// ---------------------------------------------------------------------------------------------
// The console: what the guest printed, matched by one waiter at a time, and a tail for reports.

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

type Matcher<T> = (text: string, from: number) => { value: T; end: number } | undefined;

interface WaitOptions {
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

class ConsoleReader {
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

function regexMatcher(re: RegExp): Matcher<RegExpExecArray> {
  const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  return (text, from) => {
    global.lastIndex = from;
    const m = global.exec(text);
    return m === null ? undefined : { value: m, end: m.index + m[0].length };
  };
}

function markerMatcher(text: string): Matcher<true> {
  return (all, from) => {
    const at = all.indexOf(text, from);
    return at < 0 ? undefined : { value: true, end: at + text.length };
  };
}

/** getty's prompt at the start of a line: `web1 login: `. */
const LOGIN_PROMPT = /(?:^|[\r\n])(?:\x1b\[[0-9;?]*[A-Za-z])*([A-Za-z0-9][A-Za-z0-9.-]*) login: ?/;
const PASSWORD_PROMPT = /[Pp]assword: ?/;
/** A shell prompt (`root@web1:~# `), or login refusing the password. */
const AFTER_PASSWORD = /(Login incorrect)|[\w~/\]][#$] /;

// ---------------------------------------------------------------------------------------------

/** A command that exited non-zero in the guest: its status, stderr and, unlike run()'s, its stdout. */
export class SerialCommandError extends CommandError {
  readonly stdout: string;

  constructor(argv: readonly string[], exitCode: number, stdout: string, stderr: string) {
    super(argv, exitCode, null, stderr);
    this.name = 'SerialCommandError';
    this.stdout = stdout;
  }
}

function assertGuestPath(path: string): string {
  if (!posix.isAbsolute(path)) throw new Error(`guest path must be absolute: ${JSON.stringify(path)}`);
  if (path.includes('\0')) throw new Error('guest path contains a NUL byte');
  return path;
}

/** What a console login can type: a tty would act on control characters (erase, kill, ^C) instead. */
function assertTypable(what: string, value: string): void {
  if (/[\x00-\x1f\x7f]/.test(value)) throw new Error(`the ${what} contains a control character, which cannot be typed on a console`);
}

export interface LoginOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export class SerialCommunicator implements Communicator {
  readonly description: string;
  private readonly reader = new ConsoleReader();
  private queue: Promise<unknown> = Promise.resolve();
  private loggedIn = false;
  private prompted: string | undefined;
  private readonly commandTimeoutMs: number;

  constructor(private readonly stream: Duplex, opts: { description?: string; commandTimeoutMs?: number } = {}) {
    this.description = opts.description ?? 'serial console';
    this.commandTimeoutMs = opts.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
    const decoder = new StringDecoder('utf8');
    stream.on('data', (chunk: Buffer | string) => this.reader.push(typeof chunk === 'string' ? chunk : decoder.write(chunk)));
    stream.on('end', () => this.reader.close(new Error('the serial console closed')));
    stream.on('close', () => this.reader.close(new Error('the serial console closed')));
    stream.on('error', (err) => this.reader.close(err));
  }

  /** The last console lines, escape sequences removed: for a report when something failed. */
  tail(): string[] {
    return this.reader.tail.get();
  }

  get isLoggedIn(): boolean {
    return this.loggedIn;
  }

  /** The hostname of the last login prompt seen, even when the login then failed. */
  get promptHostname(): string | undefined {
    return this.prompted;
  }

  /** Logs in at getty's prompt and sets up the shell for framed commands; resolves with the prompt's hostname. */
  login(user: string, password: string, opts: LoginOptions): Promise<string> {
    assertTypable('user name', user);
    assertTypable('password', password);
    return this.enqueue(() => this.loginNow(user, password, opts));
  }

  private async loginNow(user: string, password: string, opts: LoginOptions): Promise<string> {
    const deadline = Date.now() + opts.timeoutMs;
    const left = (): number => Math.max(1, deadline - Date.now());
    const budgetMs = opts.timeoutMs;
    const nudger = setInterval(() => this.nudge(), 1000);
    let prompt: RegExpExecArray;
    try {
      prompt = await this.reader.waitFor(regexMatcher(LOGIN_PROMPT), { timeoutMs: left(), signal: opts.signal, what: 'login prompt', budgetMs });
    } finally {
      clearInterval(nudger);
    }
    this.prompted = prompt[1] ?? '';
    this.type(user);
    await this.reader.waitFor(regexMatcher(PASSWORD_PROMPT), { timeoutMs: left(), signal: opts.signal, what: 'password prompt', budgetMs });
    this.type(password);
    const after = await this.reader.waitFor(regexMatcher(AFTER_PASSWORD), { timeoutMs: left(), signal: opts.signal, what: 'shell prompt after the password', budgetMs });
    if (after[1] !== undefined) throw new Error(`the password of ${user} was refused (Login incorrect)`);
    const nonce = randomBytes(8).toString('hex');
    this.type(setupLine(nonce));
    await this.reader.waitFor(markerMatcher(marker('READY', nonce)), { timeoutMs: left(), signal: opts.signal, what: 'answer to the shell setup', budgetMs });
    this.loggedIn = true;
    return this.prompted;
  }

  /** An empty line when the console has been quiet a while: getty then prints its prompt again. */
  private nudge(): void {
    if (Date.now() - this.reader.lastOutputAt < NUDGE_AFTER_MS) return;
    this.reader.lastOutputAt = Date.now();
    this.stream.write('\r');
  }

  /** Sends a line as a terminal would: a carriage return, which the tty turns into a newline. */
  private type(line: string): void {
    this.stream.write(`${line}\r`);
  }

  exec(argv: readonly string[], opts: { input?: string; signal?: AbortSignal } = {}): Promise<RunResult> {
    if (argv.length === 0) return Promise.reject(new Error('empty command'));
    return this.enqueue(() => this.execNow(argv, opts.input, opts.signal));
  }

  private async execNow(argv: readonly string[], input: string | undefined, signal: AbortSignal | undefined): Promise<RunResult> {
    if (!this.loggedIn) throw new Error('serial console: not logged in');
    const nonce = randomBytes(8).toString('hex');
    const { chunks, call } = commandLines(nonce, argv, input);
    const wait = { timeoutMs: this.commandTimeoutMs, signal, what: `answer to ${argv[0]}` };
    try {
      for (const [i, line] of chunks.entries()) {
        this.type(line);
        await this.reader.waitFor(markerMatcher(ackMarker(nonce, i)), wait);
      }
      this.type(call);
      const frame = await this.reader.waitFor((text, from) => {
        const hit = parseFrame(text, nonce, from);
        return hit && { value: hit.frame, end: hit.end };
      }, wait);
      const stdout = frame.stdout.toString('utf8');
      const stderr = frame.stderr.toString('utf8');
      if (frame.status !== 0) throw new SerialCommandError(argv, frame.status, stdout, stderr);
      return { stdout, stderr };
    } catch (err) {
      // A command that hangs would keep the shell from reading the next one.
      if (!(err instanceof SerialCommandError)) this.stream.write('\x03');
      throw err;
    }
  }

  /** Asks the guest to power off, without waiting for an answer: the console goes away with it. */
  poweroff(): void {
    if (this.loggedIn) this.stream.write('\x03\rsystemctl poweroff || poweroff\r');
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async writeFile(path: string, content: string | Uint8Array, mode = 0o644): Promise<void> {
    const base64 = Buffer.from(content).toString('base64');
    await this.exec(scriptArgv(WRITE_SCRIPT, [assertGuestPath(path), mode.toString(8)]), { input: base64 });
  }

  async symlink(target: string, path: string): Promise<void> {
    if (target === '' || target.includes('\0')) throw new Error(`bad link target: ${JSON.stringify(target)}`);
    await this.exec(scriptArgv(SYMLINK_SCRIPT, [target, assertGuestPath(path)]));
  }

  async readFile(path: string): Promise<Buffer> {
    const { stdout } = await this.exec(scriptArgv(READ_SCRIPT, [assertGuestPath(path)]));
    return Buffer.from(stdout, 'base64');
  }

  async remove(path: string): Promise<void> {
    if (posix.normalize(assertGuestPath(path)) === '/') throw new Error('refusing to remove the guest root');
    await this.exec(scriptArgv(REMOVE_SCRIPT, [path]));
  }
}
