// The bench's figures shaped for the reader: one summary per goal (the same shape in the table and
// in --json), the table's ratio and verdict cells, and one line per pair with the load around it.
// Pure: it formats what the parts measured.
import type { LoadPoint, Measured, PairLoad } from './bench-load.js';
import { series } from './bench-stats.js';
import { table } from './bench-table.js';

/** One goal of the bench, as --json prints it under summary.goals. */
export interface GoalSummary {
  name: string;
  part: string;
  /** What median, min, max and goal count: a ratio (×), milliseconds, or a count. */
  unit: '×' | 'ms' | 'count';
  median: number;
  min: number;
  max: number;
  /** Runs (pairs, for a ratio) the figure is the median of. */
  runs: number;
  /** Of those, the ones kept although the host stayed under load (see bench-load.ts). */
  loadedRuns: number;
  goal: number;
  better: 'lower' | 'higher';
  pass: boolean;
}

export interface GoalInput {
  name: string;
  part: string;
  unit?: GoalSummary['unit'];
  /** One figure a run: for a ratio, each pair's vmgen run over its baseline run. */
  values: number[];
  /** Per run, whether it was kept under load; shorter than values when only some runs were watched. */
  loaded: readonly boolean[];
  goal: number;
  better?: GoalSummary['better'];
}

export function goalSummary(g: GoalInput): GoalSummary {
  const { median, min, max } = series(g.values);
  const better = g.better ?? 'lower';
  const unit = g.unit ?? '×';
  // A time or a ratio is judged by its median; a count (apt runs in a warm build) must hold in every run.
  const judged = unit !== 'count' ? median : better === 'lower' ? max : min;
  return {
    name: g.name, part: g.part, unit, median, min, max, runs: g.values.length,
    loadedRuns: g.loaded.filter(Boolean).length, goal: g.goal, better, pass: better === 'lower' ? judged <= g.goal : judged >= g.goal,
  };
}

function figure(unit: GoalSummary['unit'], n: number): string {
  if (unit === 'ms') return `${n.toFixed(1)} ms`;
  if (unit === 'count') return String(n);
  return `${n.toFixed(2)}×`;
}

/** The table's ratio cell: the median, and beside it the spread over the runs when there are several. */
export function ratioCell(g: Pick<GoalSummary, 'unit' | 'median' | 'min' | 'max' | 'runs'>): string {
  const spread = g.unit === 'ms' ? `${g.min.toFixed(1)}–${g.max.toFixed(1)}` : g.unit === 'count' ? `${g.min}–${g.max}` : `${g.min.toFixed(2)}–${g.max.toFixed(2)}`;
  return g.runs > 1 ? `${figure(g.unit, g.median)} (${spread})` : figure(g.unit, g.median);
}

export function goalCell(g: Pick<GoalSummary, 'unit' | 'goal' | 'better'>): string {
  return `${g.better === 'lower' ? '≤' : '≥'} ${figure(g.unit, g.goal)}`;
}

/** PASS or MISS, and how many of its runs were kept under load. */
export function verdictCell(g: Pick<GoalSummary, 'pass' | 'runs' | 'loadedRuns'>): string {
  const verdict = g.pass ? 'PASS' : 'MISS';
  return g.loadedRuns === 0 ? verdict : `${verdict}, ${g.loadedRuns}/${g.runs} under load`;
}

/** One pair as --json lists it in its part. */
export interface PairRecord {
  vmgen: number;
  baseline: number;
  ratio: number;
  tries: number;
  loaded: boolean;
  load: PairLoad;
  /** The loads of the tries run again. */
  discarded: PairLoad[];
}

export function pairRecord(vmgen: number, baseline: number, m: Measured<unknown>): PairRecord {
  return { vmgen, baseline, ratio: vmgen / baseline, tries: m.tries, loaded: m.loaded, load: m.load, discarded: m.discarded };
}

/** Per pair: both sides, the ratio, the load average before and after, the other work during, and a mark when kept under load. */
export function pairLines(title: string, pairs: readonly PairRecord[], unit = 's', indent = '  '): string[] {
  const rows = pairs.map((p, i) => [
    String(i + 1), `${p.vmgen.toFixed(1)} ${unit}`, `${p.baseline.toFixed(1)} ${unit}`, `${p.ratio.toFixed(2)}×`,
    `${p.load.before.avg1.toFixed(2)} → ${p.load.after.avg1.toFixed(2)}`,
    `${p.load.others.mean.toFixed(1)} (max ${p.load.others.max})`,
    p.tries > 1 ? String(p.tries) : '',
    p.loaded ? 'under load' : '',
  ]);
  const header = ['pair', 'vmgen', 'baseline', 'ratio', 'load avg', 'other work', 'tries', ''];
  return [title, ...table([header, ...rows]).split('\n').map((l) => `${indent}${l}`)];
}

/** The whole run, as --json prints it under summary. */
export interface BenchSummary {
  /** The load rule in force (bench-load.ts): other work's runnable tasks above it make a pair loaded. */
  loadLimit: number;
  loadRetries: number;
  cores: number;
  /** The host at the start and at the end of the whole run. */
  hostLoad: { before: LoadPoint; after: LoadPoint };
  goals: GoalSummary[];
}

/** The closing lines: the verdicts counted, which figures rest on a loaded host, and the rule that decides it. */
export function summaryLines(summary: BenchSummary): string[] {
  const { goals, hostLoad } = summary;
  const marked = goals.filter((g) => g.loadedRuns > 0);
  return [
    `goals: ${goals.filter((g) => g.pass).length} PASS, ${goals.filter((g) => !g.pass).length} MISS`
      + `${marked.length > 0 ? `; ${marked.length} of them rest on runs kept under load (${marked.map((g) => g.name).join('; ')})` : ''}`,
    `under load = other work (runnable tasks not the bench's) above ${summary.loadLimit} on average during a pair; such a pair is run`,
    `  again up to ${summary.loadRetries} time(s), then kept and marked. Host load (1 min average) ${hostLoad.before.avg1.toFixed(2)} at the start,`
      + ` ${hostLoad.after.avg1.toFixed(2)} at the end, on ${summary.cores} cores`,
  ];
}
