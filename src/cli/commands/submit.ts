import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Option } from 'commander';
import type { Diagnostic } from '../../diagnostics.js';
import { ERROR_CODES, VmgenError, type ErrorCode } from '../../errors.js';
import type { BuildView } from '../../service/routes/common.js';
import { isFinalState } from '../../service/types.js';
import { BUILDABLE_TARGET_IDS } from '../../targets/commanders.js';
import { ARCHIVE_FORMATS, type ArchiveFormat } from '../../targets/types.js';
import { StepReporter } from '../progress.js';
import { configRequestFiles } from '../../service/request-files.js';
import { catalogsFor, collect, loadConfigBeside, readConfigText, targetFor } from '../shared.js';
import { runItText } from '../run-it.js';
import type { RegisterCommand } from './types.js';

interface SubmitFlags {
  target: string;
  server?: string;
  token?: string;
  format?: string;
  wait?: boolean;
  download?: string;
  json?: boolean;
  catalog?: string[];
}

/** Reconnects to the event stream before giving up; the build goes on on the server regardless. */
const MAX_RECONNECTS = 5;

/** http(s)://host[:port][/prefix] without a trailing slash; anything else is a usage error. */
export function serverBase(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new VmgenError('VMG_USAGE', `--server must be a URL like http://127.0.0.1:8080, not "${url}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new VmgenError('VMG_USAGE', `--server must be http:// or https://, not ${u.protocol}`);
  if (u.username || u.password) throw new VmgenError('VMG_USAGE', '--server must not carry a user or password; pass the token with --token or $VMGEN_TOKEN');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** A file name the server offers, if it is a plain one; a server does not get to choose a path on this machine. */
export function safeFileName(name: unknown): string | undefined {
  return typeof name === 'string' && /^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$/.test(name) ? name : undefined;
}

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Server-sent events from a byte stream (the WHATWG event-stream format: fields, blank line ends an event). */
export async function* sseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  const line = function* (l: string): Generator<SseEvent> {
    if (l === '') {
      if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), ...(id !== undefined ? { id } : {}) };
      event = '';
      data = [];
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon === -1 ? l : l.slice(0, colon);
    const value = colon === -1 ? '' : l.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? '';
    // A lone \r at a chunk's end may be half of \r\n: keep it for the next chunk.
    for (const l of lines) yield* line(l);
  }
  buffer += decoder.decode();
  if (buffer !== '') yield* line(buffer);
}

/** The API as this command uses it: JSON in and out, errors turned into VmgenErrors with the server's code. */
export class ApiClient {
  constructor(readonly base: string, private readonly token: string) {}

  async request(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...init.headers };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(`${this.base}${path}`, {
        method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new VmgenError('VMG_SERVICE', `cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        { hint: 'is `vmgen serve` running there?', cause: err });
    }
  }

  /** The server's {error: {code, message, hint}} as a VmgenError (its own code when this vmgen knows it). */
  async errorFrom(res: Response): Promise<VmgenError & { body?: { diagnostics?: Diagnostic[] } }> {
    let body: { error?: { code?: string; message?: string; hint?: string }; diagnostics?: Diagnostic[] } | undefined;
    try {
      body = await res.json() as typeof body;
    } catch {
      body = undefined;
    }
    const code = body?.error?.code && body.error.code in ERROR_CODES ? body.error.code as ErrorCode : 'VMG_SERVICE';
    const message = body?.error?.message ?? `the server answered ${res.status} ${res.statusText}`;
    const err = new VmgenError(code, `${this.base}: ${message}`, body?.error?.hint ? { hint: body.error.hint } : undefined) as VmgenError & { body?: typeof body };
    err.body = body;
    return err;
  }
}

/**
 * Shows a remote build with the same reporter `vmgen build` uses: a step starts when the build's
 * `step` changes, numbered in the step list the server planned (`steps`), never in this vmgen's
 * own: the server may run another version. The server reports overall progress only, no per-step
 * fraction, so the bar shows the whole build's; plain output prints it only when it passes
 * another tenth, never twice.
 */
export class RemoteProgress {
  private step: { name: string; index: number; started: number } | undefined;
  private seen = 0;
  private lastTenth = -1;
  private planned: readonly string[] = [];
  constructor(private readonly reporter: StepReporter, private readonly tty: boolean) {}

  update(b: BuildView): void {
    if (b.step && b.step !== this.step?.name) {
      this.endStep();
      this.planned = b.steps ?? this.planned;
      const known = this.planned.indexOf(b.step);
      const index = known === -1 ? Math.max(this.seen, this.planned.length) : known;
      this.step = { name: b.step, index, started: Date.now() };
      this.seen = index + 1;
      this.reporter.onEvent({ kind: 'start', step: b.step, index, total: this.total(index) });
    }
    const tenth = Math.floor(b.progress * 10);
    if (this.step && (this.tty || tenth > this.lastTenth)) {
      this.lastTenth = Math.max(this.lastTenth, tenth);
      this.reporter.onEvent({ kind: 'progress', step: this.step.name, fraction: b.progress });
    }
    if (b.state === 'succeeded') this.endStep();
  }

  log(line: string): void {
    this.reporter.detail(line);
  }

  private endStep(): void {
    if (!this.step) return;
    const { name, index, started } = this.step;
    this.reporter.onEvent({ kind: 'done', step: name, index, total: this.total(index), ms: Date.now() - started });
    this.step = undefined;
  }

  private total(index: number): number {
    return Math.max(this.planned.length, index + 1);
  }
}

/** Follows a build's events to its end, reconnecting (with Last-Event-ID) if the stream drops. */
export async function follow(client: ApiClient, id: string, onUpdate: (b: BuildView) => void, onLog: (line: string) => void): Promise<BuildView> {
  let lastId: string | undefined;
  let failures = 0;
  let lastError: unknown;
  for (;;) {
    const res = await client.request(`/api/builds/${id}/events`, { headers: { accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) } })
      .catch((err: unknown) => err as VmgenError);
    if (res instanceof Response) {
      if (!res.ok) throw await client.errorFrom(res);
      try {
        for await (const ev of sseEvents(res.body as unknown as WebReadableStream<Uint8Array>)) {
          failures = 0;
          if (ev.id !== undefined) lastId = ev.id;
          if (ev.event === 'log') onLog(ev.data);
          else if (ev.event === 'update') {
            const b = JSON.parse(ev.data) as BuildView;
            onUpdate(b);
            if (isFinalState(b.state)) return b;
          }
        }
      } catch (err) {
        lastError = err;
      }
    } else {
      lastError = res;
    }
    if (++failures > MAX_RECONNECTS) {
      throw new VmgenError('VMG_SERVICE', `lost the event stream of build ${id}: ${(lastError as Error)?.message ?? 'it ended early'}`,
        { hint: `the build goes on; look later: GET ${client.base}/api/builds/${id}` });
    }
    await new Promise((ok) => setTimeout(ok, 500 * failures));
  }
}

/** Downloads a build's artifact to DIR/NAME through a temp file, checking its SHA-256 before the rename. */
export async function downloadArtifact(client: ApiClient, build: BuildView, dir: string): Promise<string> {
  const art = build.artifact;
  if (!art) throw new VmgenError('VMG_NOT_FOUND', `build ${build.id} has no artifact`);
  const name = safeFileName(art.name) ?? `${build.id}.${build.format}`;
  await mkdir(dir, { recursive: true });
  const final = join(dir, name);
  const partial = join(dir, `.${name}.${randomBytes(4).toString('hex')}.partial`);
  const res = await client.request(`/api/builds/${build.id}/artifact`);
  if (!res.ok || !res.body) throw await client.errorFrom(res);
  const announced = res.headers.get('x-checksum-sha256');
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>), tap, createWriteStream(partial, { flags: 'wx', mode: 0o644 }));
    const got = hash.digest('hex');
    if (got !== art.sha256 || (announced !== null && announced !== art.sha256)) {
      throw new VmgenError('VMG_CHECKSUM', `the download of ${name} has SHA-256 ${got}, the server said ${art.sha256}`, { hint: 'download it again' });
    }
    await rename(partial, final);
  } catch (err) {
    await rm(partial, { force: true });
    if (err instanceof VmgenError) throw err;
    throw new VmgenError('VMG_FILE_WRITE', `cannot download ${name} to ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return final;
}

export const registerSubmit: RegisterCommand = (program, io) => {
  program
    .command('submit')
    .description('send a config to a vmgen server to build (validated here first); --wait follows it, --download fetches the archive')
    .argument('<file>', 'config file')
    .addOption(new Option('-t, --target <target>', 'what to build').choices(BUILDABLE_TARGET_IDS).makeOptionMandatory())
    .option('--server <url>', 'the server (default: $VMGEN_SERVER)', process.env.VMGEN_SERVER)
    .option('--token <token>', 'API token (default: $VMGEN_TOKEN; the variable keeps it out of the process list)')
    .addOption(new Option('-f, --format <format>', "archive format (default: the target's own)").choices([...ARCHIVE_FORMATS]))
    .option('--wait', 'follow the build to its end; exit 1 if it fails')
    .option('--download <dir>', 'with the build done, download its archive into DIR (implies --wait)')
    .option('--json', 'print the build as JSON on stdout')
    .option('--catalog <path>', 'an extra catalog file for the local check (repeatable)', collect)
    .action(async (file: string, flags: SubmitFlags) => {
      if (!flags.server) throw new VmgenError('VMG_USAGE', 'no server given', { hint: 'pass --server URL or set VMGEN_SERVER' });
      const base = serverBase(flags.server);
      const token = flags.token ?? process.env.VMGEN_TOKEN;
      if (!token) throw new VmgenError('VMG_USAGE', 'no API token given', { hint: 'set VMGEN_TOKEN (or pass --token); an admin makes one with vmgen token create NAME' });
      const target = targetFor(flags.target)!;
      // The same check the server makes, so a typo is reported here with no round trip; the files
      // the config names beside itself go with it, as the server reads no directory of this machine.
      const loaded = loadConfigBeside(io, file, catalogsFor(io, flags.catalog), target, true, flags.format as ArchiveFormat | undefined);
      const files = configRequestFiles(loaded.config, loaded.sources);
      const config = readConfigText(io, file);
      const client = new ApiClient(base, token);

      const res = await client.request('/api/builds', {
        method: 'POST', body: { config, target: target.id, ...(flags.format ? { format: flags.format } : {}), ...(Object.keys(files).length ? { files } : {}) },
      });
      if (!res.ok) {
        const err = await client.errorFrom(res);
        if (res.status === 422 && err.body?.diagnostics) {
          throw new VmgenError('VMG_CONFIG_INVALID', `the server refused ${file}`, { diagnostics: { file, items: err.body.diagnostics } });
        }
        throw err;
      }
      const { id } = await res.json() as { id: string };
      const carried = Object.keys(files).length;
      io.stderr.write(`submitted ${file}${carried ? ` with ${carried} file${carried === 1 ? '' : 's'} beside it` : ''} as build ${id} to ${base}\n`);
      if (!flags.wait && !flags.download) {
        io.stdout.write(flags.json ? `${JSON.stringify({ id }, null, 2)}\n` : `${id}\n`);
        return;
      }

      const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
      const reporter = new StepReporter(io.stderr as NodeJS.WriteStream, tty);
      const progress = new RemoteProgress(reporter, tty);
      const started = Date.now();
      let build: BuildView;
      try {
        build = await follow(client, id, (b) => progress.update(b), (l) => progress.log(l));
      } finally {
        reporter.finish();
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (build.state !== 'succeeded') {
        if (flags.json) io.stdout.write(`${JSON.stringify(build, null, 2)}\n`);
        const code = build.errorCode && build.errorCode in ERROR_CODES ? build.errorCode as ErrorCode : build.state === 'canceled' ? 'VMG_CANCELLED' : 'VMG_BUILD';
        throw new VmgenError(code, `build ${id} ${build.state}${build.error ? `: ${build.error}` : ''}`, { hint: `its log: GET ${base}/api/builds/${id}/log` });
      }
      io.stderr.write(`build ${id} succeeded in ${seconds} s${build.worker ? ` on ${build.worker}` : ''}${build.artifact ? `: ${build.artifact.name}, ${build.artifact.bytes} bytes, sha256 ${build.artifact.sha256}` : ''}\n`);
      let path: string | undefined;
      if (flags.download) path = await downloadArtifact(client, build, resolve(io.cwd, flags.download));
      if (flags.json) io.stdout.write(`${JSON.stringify({ ...build, ...(path ? { path } : {}) }, null, 2)}\n`);
      else {
        io.stdout.write(`${path ?? id}\n`);
        // As vmgen build shows them; they name the archive as downloaded, so they run where it was saved.
        io.stderr.write(runItText(build.run ?? []));
      }
    });
};
