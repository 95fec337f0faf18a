import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Communicator } from '../../src/communicators/types.js';
import { CommandError, type RunResult } from '../../src/exec/run.js';
import { formatProbeOutput, probe, unwrapProbe } from '../../src/communicators/probe.js';

/*
 * A guest in a box: replies recorded from a real guest, replayed by argv. RecordingCommunicator
 * wraps a real communicator and writes what each command printed as a transcript file;
 * FakeCommunicator reads those files back and answers the same commands the same way, including
 * the status a probe (src/communicators/probe.ts) reports. Both keep every call, so a test can also check
 * what was asked, and how (a password must only ever travel on stdin).
 */

export interface Reply {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** One command and what it printed; commands whose answer depends on stdin are told apart by its digest. */
export interface Transcript {
  argv: string[];
  inputSha256?: string;
  reply: Reply;
}

export interface Call {
  argv: string[];
  input?: string;
}

const STDOUT_MARK = '--- stdout';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function keyOf(argv: readonly string[], inputSha256: string | undefined): string {
  return JSON.stringify([argv, inputSha256 ?? null]);
}

// ---------------------------------------------------------------------------------------------
// Transcript files: JSON headers, then stdout verbatim, so outputs such as `nft list ruleset` stay readable.

export function formatTranscript(t: Transcript): string {
  return [
    `argv: ${JSON.stringify(t.argv)}`,
    ...(t.inputSha256 === undefined ? [] : [`input-sha256: ${t.inputSha256}`]),
    `exit: ${t.reply.exitCode}`,
    `stderr: ${JSON.stringify(t.reply.stderr)}`,
    STDOUT_MARK,
    t.reply.stdout,
  ].join('\n');
}

export function parseTranscript(text: string, file = 'transcript'): Transcript {
  const mark = text.indexOf(`\n${STDOUT_MARK}\n`);
  if (mark < 0) throw new Error(`${file}: no '${STDOUT_MARK}' line`);
  const headers = new Map(text.slice(0, mark).split('\n').map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]));
  const header = (name: string): string => {
    const v = headers.get(name);
    if (v === undefined) throw new Error(`${file}: no '${name}:' header`);
    return v;
  };
  const input = headers.get('input-sha256');
  return {
    argv: JSON.parse(header('argv')) as string[],
    ...(input === undefined ? {} : { inputSha256: input }),
    reply: { exitCode: Number(header('exit')), stderr: JSON.parse(header('stderr')) as string, stdout: text.slice(mark + STDOUT_MARK.length + 2) },
  };
}

export function loadTranscripts(dir: string): Transcript[] {
  return readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().map((f) => parseTranscript(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
}

/** File names from the command, readable in a listing; a digest only when two commands would share one. */
export function saveTranscripts(dir: string, transcripts: readonly Transcript[]): string[] {
  mkdirSync(dir, { recursive: true });
  const used = new Set<string>();
  const written: string[] = [];
  for (const t of transcripts) {
    let name = t.argv.join(' ').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 60);
    if (t.inputSha256 !== undefined || used.has(name)) name += `-${sha256(keyOf(t.argv, t.inputSha256)).slice(0, 8)}`;
    used.add(name);
    writeFileSync(join(dir, `${name}.txt`), formatTranscript(t));
    written.push(`${name}.txt`);
  }
  return written;
}

// ---------------------------------------------------------------------------------------------
// Replaying

/** Answers as the guest did: a probe gets the recorded status in its output, a plain command throws on failure as run() does. */
function answer(argv: readonly string[], probed: boolean, reply: Reply): RunResult {
  if (probed) return { stdout: formatProbeOutput(reply.stdout, reply.exitCode), stderr: reply.stderr };
  if (reply.exitCode !== 0) throw new CommandError(argv, reply.exitCode, null, reply.stderr);
  return { stdout: reply.stdout, stderr: reply.stderr };
}

export class FakeCommunicator implements Communicator {
  readonly description = 'fake communicator (recorded replies)';
  readonly calls: Call[] = [];
  private readonly replies = new Map<string, Reply[]>();

  constructor(transcripts: Iterable<Transcript> = []) {
    for (const t of transcripts) this.replies.set(keyOf(t.argv, t.inputSha256), [t.reply]);
  }

  /** Replies recorded in these folders; a later folder's reply to the same command wins. */
  static fromFixtures(...dirs: string[]): FakeCommunicator {
    return new FakeCommunicator(dirs.flatMap(loadTranscripts));
  }

  /** Sets the reply to a command, for cases no real guest was recorded in; several replies are given in turn, the last one then repeats. */
  on(argv: readonly string[], ...replies: Array<Partial<Reply>>): this {
    this.replies.set(keyOf(argv, undefined), replies.map((r) => ({ stdout: '', stderr: '', exitCode: 0, ...r })));
    return this;
  }

  private replyFor(argv: readonly string[], input: string | undefined): Reply {
    const queue = (input === undefined ? undefined : this.replies.get(keyOf(argv, sha256(input)))) ?? this.replies.get(keyOf(argv, undefined));
    const reply = queue?.length === 1 ? queue[0] : queue?.shift();
    if (reply === undefined) {
      throw new Error(`fake communicator: no recorded reply to ${JSON.stringify(argv)}${input === undefined ? '' : ' with this input'} (re-record: test/fixtures/verify/README.md)`);
    }
    return reply;
  }

  async exec(argv: readonly string[], opts: { input?: string; signal?: AbortSignal } = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], ...(opts.input === undefined ? {} : { input: opts.input }) });
    const inner = unwrapProbe(argv);
    return answer(argv, inner !== undefined, this.replyFor(inner ?? argv, opts.input));
  }

  async writeFile(): Promise<void> {
    throw new Error('fake communicator: writeFile is not recorded');
  }

  async symlink(): Promise<void> {
    throw new Error('fake communicator: symlink is not recorded');
  }

  async readFile(): Promise<Buffer> {
    throw new Error('fake communicator: readFile is not recorded; verify reads files with commands');
  }

  async remove(): Promise<void> {
    throw new Error('fake communicator: remove is not recorded');
  }
}

// ---------------------------------------------------------------------------------------------
// Recording

/**
 * Runs each command in a real guest, always through a probe so stdout and the status are both
 * kept, and answers the caller as the guest would have. Only exec is recorded.
 */
export class RecordingCommunicator implements Communicator {
  readonly transcripts: Transcript[] = [];
  readonly calls: Call[] = [];

  constructor(private readonly real: Communicator) {}

  get description(): string {
    return `recording ${this.real.description}`;
  }

  async exec(argv: readonly string[], opts: { input?: string; signal?: AbortSignal } = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], ...(opts.input === undefined ? {} : { input: opts.input }) });
    const wrapped = unwrapProbe(argv);
    const inner = wrapped ?? [...argv];
    const r = await probe(this.real, inner, opts.input);
    const reply = { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
    const inputSha256 = opts.input === undefined ? undefined : sha256(opts.input);
    const key = keyOf(inner, inputSha256);
    if (!this.transcripts.some((t) => keyOf(t.argv, t.inputSha256) === key)) {
      this.transcripts.push({ argv: inner, ...(inputSha256 === undefined ? {} : { inputSha256 }), reply });
    }
    return answer(argv, wrapped !== undefined, reply);
  }

  writeFile(path: string, content: string | Uint8Array, mode?: number): Promise<void> {
    return this.real.writeFile(path, content, mode);
  }

  symlink(target: string, path: string): Promise<void> {
    return this.real.symlink(target, path);
  }

  readFile(path: string): Promise<Buffer> {
    return this.real.readFile(path);
  }

  remove(path: string): Promise<void> {
    return this.real.remove(path);
  }
}
