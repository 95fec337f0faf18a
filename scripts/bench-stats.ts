// The bench's arithmetic: medians, a series' spread, and the ratio of a pair's two sides.
// Pure, so its tests need no build and no clock.

export interface Series {
  runs: number[];
  min: number;
  median: number;
  max: number;
}

export function median(runs: readonly number[]): number {
  if (runs.length === 0) throw new Error('the median of no runs');
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function series(runs: number[]): Series {
  const sorted = [...runs].sort((a, b) => a - b);
  return { runs, min: sorted[0]!, median: median(runs), max: sorted[sorted.length - 1]! };
}

/**
 * A pair's ratio is its vmgen run over the baseline run beside it, so that a slow spell of the host,
 * which weighs on both sides of one pair, cancels out; the median of those ratios is the figure,
 * and their min and max say how far one pair can be trusted.
 */
export function ratios(vmgen: readonly number[], baseline: readonly number[]): Series {
  if (vmgen.length !== baseline.length) throw new Error(`${vmgen.length} vmgen runs but ${baseline.length} baseline runs: ratios need pairs`);
  return series(vmgen.map((v, i) => v / baseline[i]!));
}

export interface Comparison {
  vmgen: Series;
  baseline: Series;
  /** The median of the pairs' ratios. */
  ratio: number;
  ratios: Series;
  goal: number;
  pass: boolean;
}

/** vmgen against its baseline, pair by pair; `goal` is the most the ratio may be. */
export function compare(vmgen: number[], baseline: number[], goal: number): Comparison {
  const r = ratios(vmgen, baseline);
  return { vmgen: series(vmgen), baseline: series(baseline), ratio: r.median, ratios: r, goal, pass: r.median <= goal };
}
