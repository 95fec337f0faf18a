import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { CommandError, type RunResult } from '../exec/run.js';
import { READ_SCRIPT, REMOVE_SCRIPT, SYMLINK_SCRIPT, WRITE_SCRIPT, scriptArgv } from './command.js';
import { ackMarker, commandLines, marker, parseFrame, setupLine } from './serial-framing.js';
import { ConsoleReader, markerMatcher, regexMatcher } from './serial-reader.js';
import type { Communicator } from './types.js';

/*
 * A guest reached only through its serial console (a VM under qemu, before any network is up).
 * A console is one byte stream shared with the kernel and getty, so every command is framed
 * (serial-framing.ts) and read back from the console's text (serial-reader.ts). Commands run one
 * at a time (a queue): a console has one shell.
 */

const COMMAND_TIMEOUT_MS = 120_000;
/** getty prints its prompt once; if a kernel message garbled it, an empty line makes it print another. */
const NUDGE_AFTER_MS = 15_000;

/** getty's prompt at the start of a line: `web1 login: `. */
const LOGIN_PROMPT = /(?:^|[\r\n])(?:\x1b\[[0-9;?]*[A-Za-z])*([A-Za-z0-9][A-Za-z0-9.-]*) login: ?/;
const PASSWORD_PROMPT = /[Pp]assword: ?/;
/** A shell prompt (`root@web1:~# `), or login refusing the password. */
const AFTER_PASSWORD = /(Login incorrect)|[\w~/\]][#$] /;

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
