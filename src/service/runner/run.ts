import { fork } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { ERROR_CODES, VmgenError, type ErrorCode } from '../../errors.js';
import { entryCommand } from '../../package-root.js';
import { DirArtifactStore } from '../artifacts/dir.js';
import { artifactKey } from '../artifacts/key.js';
import { pathHider, type HiddenPath } from '../redact.js';
import type { ArtifactInfo, ArtifactStore, BuildRequest, LabJobRequest } from '../types.js';
import type { ChildMessage, LabStart, StartMessage } from './protocol.js';
import { UpdateMapper, type UpdateFields } from './updates.js';

export interface RunnerContext {
  signal: AbortSignal;
  onUpdate(u: UpdateFields): void;
  /**
   * The build's own work is over (its process has exited); what is left, storing the archive
   * (a hash and a sync, mostly waiting on the disk), need not hold a build slot. Idempotent.
   */
  releaseSlot?(): void;
}

/**
 * Runs one build to its end and returns the stored artifact; throws a VmgenError when the build
 * fails, VMG_CANCELLED when `signal` ended it. Executors take one, so tests can give them a fake.
 */
export type Runner = (req: BuildRequest, ctx: RunnerContext) => Promise<ArtifactInfo>;

export interface ProcessRunnerOptions {
  /** Private to this machine: each process keeps its temp output in its own folder below it. */
  workDir: string;
  cacheRoot: string;
  artifacts: ArtifactStore;
  /** After SIGTERM, how long a build may take to undo its steps before it is killed. */
  killAfterMs?: number;
  /** Paths to hide from logs besides the work, stage, cache and artifact directories (the server's data dir). */
  hidePaths?: HiddenPath[];
}

const CHILD_ENTRY = entryCommand('service/runner/child', import.meta.url);
const DEFAULT_KILL_AFTER_MS = 60_000;
const STDERR_TAIL = 4000;
/** Of the overall progress, what the build's steps make; storing the archive is the rest, so 1 means stored. */
const BUILD_SHARE = 0.97;
const BUILD_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** This process's folder below a work dir: the host name keeps machines sharing a file system apart. */
function processDirName(pid = process.pid): string {
  return `${hostname()}-${pid}`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what earlier processes on this host left in `workDir` (temp output of a killed server or
 * worker); folders of live processes and of other hosts are left alone.
 */
export async function cleanWorkDir(workDir: string): Promise<string[]> {
  await mkdir(workDir, { recursive: true });
  const mine = new RegExp(`^${hostname().replace(/[^A-Za-z0-9]/g, '\\$&')}-(\\d+)$`);
  const removed: string[] = [];
  for (const name of await readdir(workDir)) {
    const pid = Number(mine.exec(name)?.[1]);
    if (!pid || isAlive(pid)) continue;
    await rm(join(workDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** The runner the service and workers use: each build in its own process, its archive put into the store. */
export function processRunner(opts: ProcessRunnerOptions): Runner {
  const procDir = join(resolve(opts.workDir), processDirName());
  return async (req, ctx) => {
    if (!BUILD_ID.test(req.id)) throw new VmgenError('VMG_USAGE', `bad build id ${JSON.stringify(req.id.slice(0, 80))}`);
    await mkdir(procDir, { recursive: true });
    const outDir = await mkdtemp(join(procDir, `${req.id}-`));
    const hide = pathHider([
      { path: outDir, as: '<stage>' }, { path: procDir, as: '<work>' }, { path: opts.workDir, as: '<work>' }, { path: opts.cacheRoot, as: '<cache>' },
      ...(opts.artifacts instanceof DirArtifactStore ? [{ path: opts.artifacts.dir, as: '<artifacts>' }] : []),
      ...(opts.hidePaths ?? []),
    ]);
    const onUpdate = (u: UpdateFields): void => {
      const shown = hideInUpdate(u, hide);
      ctx.onUpdate(shown.progress === undefined ? shown : { ...shown, progress: shown.progress * BUILD_SHARE });
    };
    try {
      const lab = req.lab ? await labStart(req.lab, opts.artifacts, outDir, ctx) : undefined;
      const files = await runInChild({
        config: req.config, target: req.target, ...(req.format ? { format: req.format } : {}), ...(req.files ? { files: req.files } : {}), cacheRoot: opts.cacheRoot, outDir,
        ...(lab ? { lab } : {}),
      }, { signal: ctx.signal, onUpdate, killAfterMs: opts.killAfterMs ?? DEFAULT_KILL_AFTER_MS });
      const name = basename(typeof files === 'string' ? files : files[1]);
      const key = artifactKey(req.id, name);
      ctx.onUpdate({ step: 'store the archive', progress: BUILD_SHARE });
      ctx.releaseSlot?.();
      const { bytes, sha256 } = await opts.artifacts.put(key, files);
      return { key, name, bytes, sha256 };
    } catch (err) {
      // The build's owner reads this error; the server's log has the executor's own record.
      if (err instanceof VmgenError) throw new VmgenError(err.code, hide(err.message), { ...(err.hint ? { hint: hide(err.hint) } : {}), cause: err });
      throw new VmgenError('VMG_BUILD', hide(err instanceof Error ? err.message : String(err)), { cause: err });
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  };
}

/**
 * A lab job as the build process takes it. The assembly's members are fetched from the artifact
 * store first (the store is the one place every worker's outputs meet), into the job's own
 * temp directory, which goes with the job.
 */
async function labStart(job: LabJobRequest, store: ArtifactStore, outDir: string, ctx: RunnerContext): Promise<LabStart> {
  if (job.role === 'member') return { role: 'member', text: job.text, machine: job.machine };
  const dir = join(outDir, 'members');
  await mkdir(dir);
  const members: Array<{ machine: string; file: string }> = [];
  for (const [i, m] of job.members.entries()) {
    if (ctx.signal.aborted) throw cancelled();
    ctx.onUpdate({ step: 'fetch the machines', progress: (i / job.members.length) * 0.2 });
    // The machine's name is checked by the lab's loader, and the file is named by its position anyway.
    const file = join(dir, `${i}-${basename(m.artifact.name)}`);
    await pipeline(await store.open(m.artifact.key), createWriteStream(file, { flags: 'wx' }));
    members.push({ machine: m.machine, file });
  }
  ctx.onUpdate({ step: 'assemble the lab', progress: 0.2 });
  return { role: 'assemble', text: job.text, members };
}

/** An update as the build's owner sees it: log lines, step and error without host paths. */
export function hideInUpdate(u: UpdateFields, hide: (text: string) => string): UpdateFields {
  return {
    ...u,
    ...(u.log ? { log: u.log.map(hide) } : {}),
    ...(u.step !== undefined ? { step: hide(u.step) } : {}),
    ...(u.error !== undefined ? { error: hide(u.error) } : {}),
  };
}

/** Node flags the build process must not inherit: it is no test file, and two debuggers cannot share a port. */
function childExecArgv(): string[] {
  return process.execArgv.filter((a) => !/^--(test|inspect|watch|experimental-test)/.test(a));
}

/**
 * Runs one build in a forked process and returns the archive's files: its path, or its first part
 * and the rest (see child.ts for the other side).
 */
export function runInChild(start: Omit<StartMessage, 'type'>, ctx: RunnerContext & { killAfterMs: number }): Promise<string | [string, string]> {
  if (ctx.signal.aborted) return Promise.reject(cancelled());
  return new Promise((resolvePromise, reject) => {
    const mapper = new UpdateMapper(ctx.onUpdate);
    // Its own process group, so a kill after the grace period takes the tools it started too.
    const child = fork(CHILD_ENTRY.script, CHILD_ENTRY.args, { execArgv: childExecArgv(), stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true, serialization: 'json' });
    let outcome: ChildMessage | undefined;
    let stderrTail = '';
    let killTimer: NodeJS.Timeout | undefined;
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      partial += s;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) mapper.log(l);
    });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderrTail = (stderrTail + s).slice(-STDERR_TAIL);
      for (const l of s.split('\n')) if (l.trim() !== '') mapper.log(l);
    });
    child.on('message', (msg: ChildMessage) => {
      if (msg.type === 'event') mapper.event(msg.event);
      else if (msg.type === 'log') mapper.log(msg.line);
      else outcome = msg;
    });
    const onAbort = (): void => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, ctx.killAfterMs);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let spawnError: Error | undefined;
    child.on('error', (err) => (spawnError = err));
    child.on('close', (code, sig) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      mapper.flush();
      if (outcome?.type === 'done') return resolvePromise(outcome.head === undefined ? outcome.archive : [outcome.head, outcome.archive]);
      if (outcome?.type === 'error') {
        const known = (outcome.code in ERROR_CODES ? outcome.code : 'VMG_BUILD') as ErrorCode;
        return reject(new VmgenError(known, outcome.message, outcome.hint ? { hint: outcome.hint } : undefined));
      }
      if (ctx.signal.aborted) return reject(cancelled());
      const how = spawnError ? `could not start: ${spawnError.message}` : sig ? `was killed by ${sig}` : `exited with ${code}`;
      const tail = stderrTail.trim().split('\n').slice(-5).join('\n');
      reject(new VmgenError('VMG_RUNNER', `the build process ${how}${tail ? `: ${tail}` : ''}`));
    });
    child.send({ type: 'start', ...start } satisfies StartMessage, (err) => {
      if (err) spawnError ??= err;
    });
  });
}

function cancelled(): VmgenError {
  return new VmgenError('VMG_CANCELLED', 'the build was cancelled; nothing was left behind');
}
