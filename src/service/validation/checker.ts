import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { VmgenError } from '../../errors.js';
import { entryScript } from '../../package-root.js';
import type { Catalogs } from '../../catalog/schema.js';
import type { SourcePolicy } from '../source-policy.js';
import { WorkerPool } from './pool.js';
import { checkContext, runCheck, type CheckResult, type CheckTask } from './tasks.js';

/**
 * What the routes ask about a config text (submit, the page's parse and edits). The service's
 * checker runs each task in a worker thread under a time and memory budget, so no text, however
 * made, holds up other requests; the inline one is for callers that own their thread (tests).
 */
export interface ConfigChecker {
  /** `key` is who asks (a user id): one user's texts cannot take every worker. */
  check<T extends CheckTask>(task: T, key?: string): Promise<CheckResult<T>>;
  close(): Promise<void>;
}

export interface CheckerOptions {
  catalogs: Catalogs;
  policy?: SourcePolicy;
  /** Budget of one check, ms. */
  timeoutMs: number;
  /** Worker threads (default: one core's fewer than the host has, 1 or 2, so the request thread keeps a core). */
  workers?: number;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 5000;
/** A config is at most a few hundred KiB; reading one takes a few MB. */
const CHECK_HEAP_MB = 256;

export function overBudget(what: 'time' | 'memory' | 'depth', timeoutMs: number): VmgenError {
  const why = what === 'time' ? `took longer than ${timeoutMs / 1000} s to read`
    : what === 'memory' ? `needed more than ${CHECK_HEAP_MB} MB to read` : 'is nested too deeply to read';
  return new VmgenError('VMG_CONFIG_TOO_COMPLEX', `the config ${why}; it was not checked`,
    { hint: 'a config is a short INI file: look for a runaway line (thousands of brackets, quotes or list items)' });
}

export function workerChecker(o: CheckerOptions): ConfigChecker {
  const size = o.workers ?? Math.max(1, Math.min(2, availableParallelism() - 1));
  const pool = new WorkerPool<CheckTask, unknown>({
    entry: pathToFileURL(entryScript('service/validation/worker', import.meta.url)),
    workerData: { catalogs: o.catalogs, ...(o.policy ? { policy: o.policy } : {}) },
    size,
    timeoutMs: o.timeoutMs,
    maxQueue: 64,
    // Turns are fair between users already; the cap only stops one user filling the whole queue.
    // A client may well send a batch at once (the integration test sends 20 from 3 users).
    maxPerKey: 16,
    maxHeapMb: CHECK_HEAP_MB,
    overBudget: (what) => overBudget(what, o.timeoutMs),
  });
  return {
    check: (task, key) => pool.run(task, key) as Promise<CheckResult<typeof task>>,
    close: () => pool.close(),
  };
}

/** Checks in the caller's thread: no budget. For tests and tools that read trusted text. */
export function inlineChecker(catalogs: Catalogs, policy?: SourcePolicy): ConfigChecker {
  let ctx: ReturnType<typeof checkContext> | undefined;
  return {
    check: async (task) => runCheck((ctx ??= checkContext(catalogs, policy)), task),
    close: async () => {},
  };
}
