// The host's load as the bench reads it from /proc: the 1-minute load average, and the runnable
// tasks of other work, i.e. the running threads of every process outside the bench's process tree
// and the kernel's own threads. That count reacts at once, and leaves out the bench's own previous
// pair, which the load average keeps counting for a minute.
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOAD_LIMIT, measurePair, pairLoad, type LoadPoint, type LoadWatch, type Measure } from './bench-load.js';

/** Readings a second during a pair: cheap (a few hundred small files), and enough for a mean. */
const SAMPLE_MS = 1000;
/** How long a loaded pair waits for the other work to pass before it is run again anyway. */
const CALM_WAIT_S = 30;

export interface Loadavg {
  avg1: number;
  /** Tasks running or ready to run, system-wide, the reader included. */
  running: number;
}

/** /proc/loadavg: "0.52 0.58 0.59 3/189 12345". */
export function parseLoadavg(text: string): Loadavg {
  const m = /^([\d.]+) [\d.]+ [\d.]+ (\d+)\/\d+ /.exec(text);
  if (!m) throw new Error(`/proc/loadavg: unexpected ${JSON.stringify(text.slice(0, 80))}`);
  return { avg1: Number(m[1]), running: Number(m[2]) };
}

export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
}

/** /proc/PID/stat; the command name may hold spaces and parentheses, so fields count from its last ')'. */
export function parseStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  const [state, ppid] = text.slice(close + 2).split(' ');
  const pid = Number.parseInt(text, 10);
  if (close < 0 || state === undefined || ppid === undefined || !Number.isInteger(pid)) throw new Error(`/proc stat: unexpected ${JSON.stringify(text.slice(0, 80))}`);
  return { pid, state, ppid: Number(ppid) };
}

/** `root` and every process below it. */
export function treeOf(procs: readonly ProcStat[], root: number): Set<number> {
  const children = new Map<number, number[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const tree = new Set<number>();
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (tree.has(pid)) continue;
    tree.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** kthreadd: every kernel thread (writeback, kworkers, the journal) is a child of it. */
export const KTHREADD = 2;

/**
 * The tasks whose running is not other work: the bench's tree, and the kernel's threads, which run
 * mostly to write back what the bench's builds wrote (at 4 concurrent builds they were 1 to 2 of
 * the runnable tasks, and marked every try as under load). Another program's own threads still count.
 */
export function notOtherWork(procs: readonly ProcStat[], root: number): Set<number> {
  return new Set([...treeOf(procs, root), ...treeOf(procs, KTHREADD)]);
}

/**
 * Other work: the runnable threads of processes that are neither the bench's nor the kernel's.
 * Counted from the tasks themselves, not as the kernel's total less the bench's own: a build starts
 * many short processes (dpkg's maintainer scripts), and one that the total counted but that was gone
 * when the bench's tree was read counted as someone else's (1 runnable task on average through an
 * mmdebstrap run on a quiet host).
 */
export function othersRunning(threads: ReadonlyArray<{ pid: number; state: string }>, ours: ReadonlySet<number>): number {
  return threads.filter((t) => t.state === 'R' && !ours.has(t.pid)).length;
}

/** A file that vanished with its process reads as nothing. */
async function readGone(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

/** Every thread's state, by its process: a multi-threaded program runs in threads whose process may sleep. */
async function threadStates(pids: readonly number[]): Promise<Array<{ pid: number; state: string }>> {
  const out: Array<{ pid: number; state: string }> = [];
  for (const pid of pids) {
    const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
    for (const tid of tids) {
      const text = await readGone(`/proc/${pid}/task/${tid}/stat`);
      if (text !== undefined) out.push({ pid, state: parseStat(text).state });
    }
  }
  return out;
}

async function otherWorkRunning(root: number): Promise<number> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  const stats = (await Promise.all(pids.map((pid) => readGone(`/proc/${pid}/stat`)))).filter((t): t is string => t !== undefined).map(parseStat);
  const ours = notOtherWork(stats, root);
  // The reader itself is running while it reads.
  ours.add(process.pid);
  return othersRunning(await threadStates(stats.map((s) => s.pid).filter((pid) => !ours.has(pid))), ours);
}

export async function readLoadPoint(root: number = process.pid): Promise<LoadPoint> {
  const { avg1 } = parseLoadavg(await readFile('/proc/loadavg', 'utf8'));
  return { avg1, others: await otherWorkRunning(root) };
}

/** Reads the load now, then every SAMPLE_MS, until stopped. */
export async function watchLoad(): Promise<LoadWatch> {
  const points: LoadPoint[] = [await readLoadPoint()];
  let reading: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    reading = reading.then(async () => {
      points.push(await readLoadPoint());
    });
  }, SAMPLE_MS);
  return {
    async stop() {
      clearInterval(timer);
      await reading;
      points.push(await readLoadPoint());
      return pairLoad(points);
    },
  };
}

/** Waits, up to CALM_WAIT_S, for the other work to drop to LOAD_LIMIT. */
export async function waitForCalm(signal?: AbortSignal): Promise<void> {
  for (let waited = 0; waited < CALM_WAIT_S; waited++) {
    if ((await readLoadPoint()).others <= LOAD_LIMIT) return;
    await sleep(1000, undefined, signal ? { signal } : {});
  }
}

/** The Measure the parts are handed: pairs watched through /proc, `retries` more tries when loaded. */
export function procMeasure(retries: number, note: (line: string) => void, signal?: AbortSignal): Measure {
  return (label, pair) => measurePair(pair, {
    watch: watchLoad,
    retries,
    calm: () => waitForCalm(signal),
    onLoaded: (load, n, again) => note(`${label}, try ${n}: under load (other work ${load.others.mean.toFixed(1)} runnable on average, `
      + `load average ${load.before.avg1.toFixed(1)} → ${load.after.avg1.toFixed(1)})${again ? '; running it again' : '; kept, marked'}`),
  });
}
