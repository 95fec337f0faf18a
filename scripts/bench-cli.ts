// How fast the CLI starts, next to node's own start, measured in the same run (npm run bench calls benchCli()):
//   validate  `node bin/vmgen.js validate examples/debian-web.conf`, RUNS times
//   baseline  `node -e 0`, RUNS times
// The two alternate run by run, so a change in the host's load falls on both. Goal: the validate
// run's median ≤ 150 ms wall. A measurement, not a test: it fails only when it cannot measure.
// Runs whatever bin/vmgen.js loads: the bundle in dist/bundle once npm run build made it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Row } from './bench-service.js';
import { series, type Series } from './bench-stats.js';
import { goalSummary } from './bench-summary.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VMGEN = join(ROOT, 'bin', 'vmgen.js');
const CONFIG_NAME = 'examples/debian-web.conf';
const RUNS = 20;
/** Untimed runs first: the first reads of the files come from the disk, later ones from the page cache. */
const WARMUP = 2;
export const CLI_GOAL_MS = 150;

/** One run's wall time in ms; a run that fails stops the measurement. */
function wallMs(argv: readonly string[]): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return ms;
}

const show = (s: Series): string => `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;

export function benchCli(): Row[] {
  const validate = [VMGEN, 'validate', CONFIG_NAME];
  const baseline = ['-e', '0'];
  for (let i = 0; i < WARMUP; i++) [validate, baseline].forEach(wallMs);
  const v: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    v.push(wallMs(validate));
    b.push(wallMs(baseline));
  }
  const vs = series(v);
  const bs = series(b);
  const goal = goalSummary({ name: 'vmgen validate (wall ms)', part: 'cli', unit: 'ms', values: v, loaded: [], goal: CLI_GOAL_MS });
  const pass = goal.pass;
  return [{
    cells: [`vmgen validate, median of ${RUNS} (min–max)`, show(vs), `node -e 0: ${show(bs)}`, (vs.median / bs.median).toFixed(2), `≤ ${CLI_GOAL_MS} ms`, pass ? 'PASS' : 'MISS'],
    goal,
    values: {
      runs: RUNS, validateMedianMs: vs.median, validateMinMs: vs.min, validateMaxMs: vs.max,
      nodeMedianMs: bs.median, nodeMinMs: bs.min, nodeMaxMs: bs.max, ratio: vs.median / bs.median, overNodeMs: vs.median - bs.median, goalMs: CLI_GOAL_MS, pass,
    },
  }];
}
