/**
 * The process one build runs in (forked by run.ts): a crash, a cancel or a kill stays inside it.
 * It reads one StartMessage over IPC, builds, and reports events, log lines and the outcome back.
 * SIGTERM or SIGINT cancels the build, which then runs its cleanups; so does losing the parent
 * (a `kill -9` of the server or worker closes the IPC channel), so no build runs on unowned.
 */
import { build } from '../../orchestrator/build.js';
import { loadCatalogs } from '../../catalog/load.js';
import { loadConfig } from '../../validate/load.js';
import { formatDiagnostic, hasErrors } from '../../diagnostics.js';
import { VmgenError } from '../../errors.js';
import { findTarget } from '../../targets/registry.js';
import { ARCHIVE_FORMATS, type ArchiveFormat } from '../../targets/types.js';
import { requestSources } from '../request-files.js';
import type { StepEvent } from '../../steps/run-steps.js';
import { runLabJob } from './lab-job.js';
import type { ChildMessage, StartMessage } from './protocol.js';

const controller = new AbortController();
const parentPid = process.ppid;

function abort(why: string): void {
  if (!controller.signal.aborted) controller.abort(new Error(why));
}

function send(msg: ChildMessage): Promise<void> {
  return new Promise((ok) => {
    if (!process.connected) return ok();
    process.send!(msg, undefined, {}, () => ok());
  });
}

process.on('SIGTERM', () => abort('received SIGTERM'));
process.on('SIGINT', () => abort('received SIGINT'));
process.on('disconnect', () => abort('the process that started the build is gone'));
// The IPC channel normally tells; this catches a parent that died before the channel was up.
setInterval(() => {
  if (process.ppid !== parentPid) abort('the process that started the build is gone');
}, 1000).unref();

async function runBuild(msg: StartMessage): Promise<ChildMessage> {
  const catalogs = loadCatalogs();
  const target = findTarget(msg.target);
  if (!target) throw new VmgenError('VMG_USAGE', `unknown target '${msg.target}'`);
  if (msg.format !== undefined && !(ARCHIVE_FORMATS as readonly string[]).includes(msg.format)) {
    throw new VmgenError('VMG_USAGE', `unknown archive format '${msg.format}'`);
  }
  const onEvent = (e: StepEvent): void => void send({
    type: 'event',
    event: e.kind === 'cleanup-failed' ? { ...e, error: e.error instanceof Error ? e.error.message : String(e.error) } : e,
  });
  const log = (line: string): void => void send({ type: 'log', line });
  if (msg.lab) {
    const archive = await runLabJob(msg.lab, { catalogs, target, files: msg.files, cacheRoot: msg.cacheRoot, outDir: msg.outDir, signal: controller.signal, onEvent, log });
    return { type: 'done', archive };
  }
  // The service validated the config when it was submitted; catalogs or the code may have changed since.
  // The request's files are read as the CLI reads the directory beside a config.
  const sources = requestSources(msg.files);
  const loaded = loadConfig(msg.config, { catalogs, target, sources, ...(msg.format ? { format: msg.format as ArchiveFormat } : {}) });
  if (hasErrors(loaded.diagnostics) || !loaded.config) {
    const lines = loaded.diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic('config', d));
    throw new VmgenError('VMG_CONFIG_INVALID', `the config does not validate: ${lines.join('; ')}`);
  }
  const result = await build({
    config: loaded.config, catalogs, target: target.id, outDir: msg.outDir, cacheRoot: msg.cacheRoot, signal: controller.signal, sources,
    ...(msg.format ? { format: msg.format as ArchiveFormat } : {}),
    onEvent, log, headApart: true,
  });
  return { type: 'done', archive: result.archive, ...(result.head === undefined ? {} : { head: result.head }) };
}

process.once('message', (msg: StartMessage) => {
  void (async () => {
    let outcome: ChildMessage;
    try {
      if (msg?.type !== 'start') throw new VmgenError('VMG_RUNNER', 'the build process got no start message');
      outcome = await runBuild(msg);
    } catch (err) {
      outcome = err instanceof VmgenError
        ? { type: 'error', code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) }
        : { type: 'error', code: 'VMG_BUILD', message: err instanceof Error ? err.message : String(err) };
    }
    await send(outcome);
    if (process.connected) process.disconnect();
    process.exitCode = outcome.type === 'done' ? 0 : 1;
    // Handles left open by a tool must not keep a finished build process alive.
    setTimeout(() => process.exit(), 2000).unref();
  })();
});
