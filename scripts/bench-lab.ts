// A lab's build next to one machine's, measured in the same run (npm run bench calls benchLab()):
//   lab     `vmgen lab build` of 20 copies of examples/debian-web.conf on one network (one package
//           set, so one layer), warm
//   single  `vmgen build` of the same config with another hostname, warm
// Both start from the same warm layer cache: an untimed single build makes it first. They run in
// pairs (one single build, then one lab build), each watched for other work on the host and run
// again when loaded (bench-load.ts). Reported as ratios, the median over the pairs with its spread:
// the lab's time over the single build's (goal ≤ 4) and the lab's archive over the single
// machine's archive (goal ≤ 1.5). A measurement, not a test: it fails only when it cannot measure.
// Needs root, like vmgen build.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { run } from '../src/exec/run.js';
import type { Row } from './bench-service.js';
import type { Measure } from './bench-load.js';
import { median } from './bench-stats.js';
import { goalCell, goalSummary, pairRecord, ratioCell, verdictCell, type PairRecord } from './bench-summary.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VMGEN = join(ROOT, 'bin', 'vmgen.js');
const CONFIG_NAME = 'examples/debian-web.conf';
const TARGET = 'lxc';
const COPIES = 20;
/** Pairs timed: a single build and a lab build each. */
const PAIRS = 3;
export const LAB_GOALS = { time: 4, size: 1.5 } as const;

function note(line: string): void {
  process.stderr.write(`bench-lab: ${line}\n`);
}

/** The lab: the sample machine COPIES times on one network, each with its own address (and so its own MAC, from the lab). */
function labFile(): string {
  return [
    '[lab]', '    name = bench', '[networks]', '    [[lan]]', '        subnet = 192.168.1.0/24',
    '[machines]', '    [[web]]', '        config = web.conf', `        count = ${COPIES}`, '        eth0 = lan:192.168.1.{100+n}', '',
  ].join('\n');
}

async function timed<T>(what: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await what();
  return { seconds: (performance.now() - start) / 1000, value };
}

const lastLine = (out: string): string => out.trim().split('\n').pop() ?? '';

export interface LabResult {
  rows: Row[];
  /** Per pair, the lab build (vmgen) beside the single build (baseline). */
  pairs: PairRecord[];
}

export async function benchLab(opts: { measure: Measure; cacheDir?: string; signal?: AbortSignal }): Promise<LabResult> {
  const tmp = await mkdtemp('/var/tmp/vmgen-bench-lab-');
  const signal = opts.signal;
  const cache = opts.cacheDir === undefined ? [] : ['--cache-dir', opts.cacheDir];
  try {
    const text = await readFile(join(ROOT, CONFIG_NAME), 'utf8');
    // The sample gives its NIC a fixed MAC; twenty copies on one network each need their own.
    const machine = text.replace(/^\s*hw_addr\s*=.*\n/m, '');
    await writeFile(join(tmp, 'web.conf'), machine);
    await writeFile(join(tmp, 'lab.conf'), labFile());
    const single = async (i: number): Promise<{ seconds: number; bytes: number }> => {
      const conf = join(tmp, `single-${i}.conf`);
      await writeFile(conf, text.replace(/^(\s*hostname\s*=\s*)\S.*$/m, `$1bench-single-${i}`));
      const out = join(tmp, `out-single-${i}`);
      const r = await timed(() => run(['node', VMGEN, 'build', conf, '--target', TARGET, '--out', out, ...cache], { cwd: ROOT, ...(signal ? { signal } : {}) }));
      const bytes = (await stat(lastLine(r.value.stdout))).size;
      await rm(out, { recursive: true, force: true });
      return { seconds: r.seconds, bytes };
    };
    note(`warming the layer of ${CONFIG_NAME} (untimed)`);
    await single(0);
    const singles: Array<{ seconds: number; bytes: number }> = [];
    const labs: Array<{ seconds: number; bytes: number }> = [];
    const pairs: PairRecord[] = [];
    const loaded: boolean[] = [];
    // A single build, then a lab build: a slow spell of the host weighs on both sides of a pair.
    for (let i = 1; i <= PAIRS; i++) {
      const pair = await opts.measure(`lab pair ${i}/${PAIRS}`, async () => {
        note(`single build ${i}/${PAIRS}`);
        const one = await single(i);
        note(`lab build of ${COPIES} machines ${i}/${PAIRS}`);
        const out = join(tmp, `out-lab-${i}`);
        const r = await timed(() => run(['node', VMGEN, 'lab', 'build', join(tmp, 'lab.conf'), '--target', TARGET, '--out', out, ...cache], { cwd: ROOT, ...(signal ? { signal } : {}) }));
        const lab = { seconds: r.seconds, bytes: (await stat(lastLine(r.value.stdout))).size };
        await rm(out, { recursive: true, force: true });
        return { one, lab };
      });
      singles.push(pair.value.one);
      labs.push(pair.value.lab);
      loaded.push(pair.loaded);
      pairs.push(pairRecord(pair.value.lab.seconds, pair.value.one.seconds, pair));
    }
    const singleSeconds = median(singles.map((x) => x.seconds));
    const labSeconds = median(labs.map((x) => x.seconds));
    const singleBytes = median(singles.map((x) => x.bytes));
    const labBytes = median(labs.map((x) => x.bytes));
    const time = goalSummary({ name: `lab of ${COPIES} (${TARGET}, warm) build time vs one machine`, part: 'lab', values: pairs.map((p) => p.ratio), loaded, goal: LAB_GOALS.time });
    // Bytes do not change with the host's load: no run of this figure counts as loaded.
    const size = goalSummary({
      name: `lab of ${COPIES} (${TARGET}) archive size vs one machine`, part: 'lab', values: labs.map((x, i) => x.bytes / singles[i]!.bytes), loaded: [], goal: LAB_GOALS.size,
    });
    const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
    const rows: Row[] = [
      {
        cells: [`lab of ${COPIES} (${TARGET}, warm): build time`, `${labSeconds.toFixed(1)} s`, `${singleSeconds.toFixed(1)} s (one machine)`,
          ratioCell(time), goalCell(time), verdictCell(time)],
        values: {
          labSeconds, singleSeconds, timeRatio: time.median, timeRatioMin: time.min, timeRatioMax: time.max, goal: LAB_GOALS.time, pass: time.pass,
          labRuns: labs.map((x) => x.seconds).join(', '), singleRuns: singles.map((x) => x.seconds).join(', '), loadedRuns: time.loadedRuns,
        },
        goal: time,
      },
      {
        cells: [`lab of ${COPIES} (${TARGET}): archive size`, mib(labBytes), `${mib(singleBytes)} (one machine)`,
          ratioCell(size), goalCell(size), verdictCell(size)],
        values: { labBytes, singleBytes, sizeRatio: size.median, sizeRatioMin: size.min, sizeRatioMax: size.max, goal: LAB_GOALS.size, pass: size.pass },
        goal: size,
      },
    ];
    return { rows, pairs };
  } finally {
    note(`removing ${tmp}`);
    await rm(tmp, { recursive: true, force: true });
  }
}
