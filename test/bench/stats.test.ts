import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, median, ratios, series } from '../../scripts/bench-stats.js';

test('median of odd and even counts, whatever the order', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /no runs/);
});

test('a series keeps its runs in order and gives min, median, max', () => {
  assert.deepEqual(series([5, 1, 3]), { runs: [5, 1, 3], min: 1, median: 3, max: 5 });
});

test('ratios are taken pair by pair, so a slow pair does not skew the others', () => {
  // The second pair ran while the host was slow: both sides took twice as long, its ratio is unchanged.
  const r = ratios([10, 20, 12], [5, 10, 4]);
  assert.deepEqual(r.runs, [2, 2, 3]);
  assert.equal(r.median, 2);
  assert.equal(r.min, 2);
  assert.equal(r.max, 3);
  assert.throws(() => ratios([1, 2], [1]), /need pairs/);
});

test('compare: the ratio is the median of the pair ratios, with its spread, against the goal', () => {
  const c = compare([6, 5, 9], [5, 5, 5], 1.2);
  assert.equal(c.ratio, 1.2);
  assert.deepEqual([c.ratios.min, c.ratios.max], [1, 1.8]);
  assert.equal(c.vmgen.median, 6);
  assert.equal(c.baseline.median, 5);
  assert.equal(c.pass, true);
  assert.equal(compare([7, 7, 7], [5, 5, 5], 1.2).pass, false);
});
