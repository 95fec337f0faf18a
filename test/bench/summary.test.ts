import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goalCell, goalSummary, pairLines, pairRecord, ratioCell, summaryLines, verdictCell } from '../../scripts/bench-summary.js';
import { pairLoad } from '../../scripts/bench-load.js';

test('goalSummary: median, spread, runs, loaded runs and the verdict, in one shape', () => {
  const g = goalSummary({ name: 'lxc warm', part: 'lxc', values: [1.5, 2.5, 1.8], loaded: [false, true, false], goal: 2 });
  assert.deepEqual(g, { name: 'lxc warm', part: 'lxc', unit: '×', median: 1.8, min: 1.5, max: 2.5, runs: 3, loadedRuns: 1, goal: 2, better: 'lower', pass: true });
  const up = goalSummary({ name: 'speedup', part: 'service', values: [1.1], loaded: [], goal: 1.2, better: 'higher' });
  assert.equal(up.pass, false);
  assert.equal(up.loadedRuns, 0);
  const apt = goalSummary({ name: 'apt runs', part: 'lxc', unit: 'count', values: [0, 0, 1], loaded: [], goal: 0 });
  assert.deepEqual({ median: apt.median, pass: apt.pass }, { median: 0, pass: false }, 'a count goal holds in every run, not in the median');
});

test('cells: the spread beside the median, the goal, and the under-load mark', () => {
  const g = goalSummary({ name: 'x', part: 'lab', values: [3.1, 2.94, 3.5], loaded: [true, false, true], goal: 4 });
  assert.equal(ratioCell(g), '3.10× (2.94–3.50)');
  assert.equal(goalCell(g), '≤ 4.00×');
  assert.equal(verdictCell(g), 'PASS, 2/3 under load');
  const one = goalSummary({ name: 'p95', part: 'service', unit: 'ms', values: [120], loaded: [false], goal: 100 });
  assert.equal(ratioCell(one), '120.0 ms');
  assert.equal(goalCell(one), '≤ 100.0 ms');
  assert.equal(verdictCell(one), 'MISS');
});

test('pairLines: each pair with its load, the tries, and a mark when kept under load', () => {
  const calm = { value: 0, load: pairLoad([{ avg1: 0.5, others: 0 }, { avg1: 1.2, others: 0 }]), loaded: false, tries: 1, discarded: [] };
  const busy = { value: 0, load: pairLoad([{ avg1: 2.5, others: 2 }, { avg1: 3, others: 3 }]), loaded: true, tries: 3, discarded: [] };
  const lines = pairLines('warm pairs:', [pairRecord(4, 2, calm), pairRecord(6, 2, busy)]);
  assert.equal(lines[0], 'warm pairs:');
  assert.match(lines[1]!, /^ {2}pair +vmgen +baseline +ratio +load avg +other work +tries$/);
  assert.match(lines[2]!, /^ {2}1 +4\.0 s +2\.0 s +2\.00× +0\.50 → 1\.20 +0\.0 \(max 0\)$/);
  assert.match(lines[3]!, /^ {2}2 +6\.0 s +2\.0 s +3\.00× +2\.50 → 3\.00 +2\.5 \(max 3\) +3 +under load$/);
});

test('summaryLines: verdicts counted, the goals resting on loaded runs named, the rule and the host load', () => {
  const goals = [
    goalSummary({ name: 'lxc warm', part: 'lxc', values: [1.5, 1.6, 1.7], loaded: [false, true, false], goal: 2 }),
    goalSummary({ name: 'lxc cold', part: 'lxc', values: [1.3, 1.3, 1.4], loaded: [false, false, false], goal: 1.2 }),
  ];
  const lines = summaryLines({ loadLimit: 1, loadRetries: 2, cores: 2, hostLoad: { before: { avg1: 0.5, others: 0 }, after: { avg1: 1.25, others: 1 } }, goals });
  assert.equal(lines[0], 'goals: 1 PASS, 1 MISS; 1 of them rest on runs kept under load (lxc warm)');
  assert.match(lines[1]!, /above 1 on average during a pair/);
  assert.match(lines[2]!, /up to 2 time\(s\).* 0\.50 at the start, 1\.25 at the end, on 2 cores$/);
  const calm = summaryLines({ loadLimit: 1, loadRetries: 0, cores: 2, hostLoad: { before: { avg1: 0, others: 0 }, after: { avg1: 0, others: 0 } }, goals: [goals[1]!] });
  assert.equal(calm[0], 'goals: 0 PASS, 1 MISS');
});
