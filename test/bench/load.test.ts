import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOAD_LIMIT, LOAD_RETRIES, measurePair, pairLoad, underLoad, type LoadPoint, type LoadWatch, type PairLoad } from '../../scripts/bench-load.js';

const point = (others: number, avg1 = 0.5): LoadPoint => ({ avg1, others });

/** A watch that hands out the given tries' readings in turn, and counts the pairs it watched. */
function fakeWatch(tries: LoadPoint[][]): { watch: () => Promise<LoadWatch>; started: () => number; stopped: () => number } {
  let started = 0;
  let stopped = 0;
  return {
    watch: async () => {
      const readings = tries[started++];
      if (!readings) throw new Error(`no readings for try ${started}`);
      return { stop: async () => (stopped++, pairLoad(readings)) };
    },
    started: () => started,
    stopped: () => stopped,
  };
}

test('pairLoad: before and after are the ends; other work is averaged over every reading', () => {
  const l = pairLoad([point(0, 1.5), point(3), point(1, 0.7)]);
  assert.deepEqual(l.before, point(0, 1.5));
  assert.deepEqual(l.after, point(1, 0.7));
  assert.deepEqual(l.others, { mean: 4 / 3, max: 3, samples: 3 });
  assert.throws(() => pairLoad([]), /at least one reading/);
});

test('underLoad looks at the other work, not at the load average the bench itself raised', () => {
  const own: PairLoad = pairLoad([point(0, 2.4), point(1, 2.6)]);
  assert.equal(underLoad(own), false, 'a high load average from the bench\'s previous pair is not other work');
  assert.equal(underLoad(pairLoad([point(2, 0.1), point(2, 0.3)])), true, 'two other runnable tasks throughout are');
  assert.equal(underLoad(pairLoad([point(LOAD_LIMIT), point(LOAD_LIMIT)])), false, 'the limit itself is not over it');
  assert.equal(underLoad(pairLoad([point(1), point(1)]), 0.5), true, 'a lower limit when asked');
});

test('a calm pair runs once', async () => {
  const w = fakeWatch([[point(0), point(1), point(0)]]);
  let runs = 0;
  const m = await measurePair(async () => ++runs, { watch: w.watch });
  assert.deepEqual({ value: m.value, loaded: m.loaded, tries: m.tries, discarded: m.discarded.length, runs }, { value: 1, loaded: false, tries: 1, discarded: 0, runs: 1 });
});

test('a pair measured under load is run again, and the calm try is kept', async () => {
  const w = fakeWatch([[point(3), point(3)], [point(0), point(0)]]);
  const told: Array<[number, boolean]> = [];
  let calms = 0;
  let runs = 0;
  const m = await measurePair(async () => ++runs, {
    watch: w.watch, calm: async () => void calms++, onLoaded: (_l, n, again) => told.push([n, again]),
  });
  assert.equal(m.value, 2);
  assert.equal(m.loaded, false);
  assert.equal(m.tries, 2);
  assert.equal(m.discarded.length, 1);
  assert.equal(m.discarded[0]!.others.mean, 3);
  assert.deepEqual(told, [[1, true]]);
  assert.equal(calms, 1);
});

test('a pair that stays under load is tried 1 + retries times, then kept and marked', async () => {
  const busy = [point(2), point(4)];
  const w = fakeWatch(Array.from({ length: LOAD_RETRIES + 1 }, () => busy));
  const told: Array<[number, boolean]> = [];
  let runs = 0;
  const m = await measurePair(async () => ++runs, { watch: w.watch, onLoaded: (_l, n, again) => told.push([n, again]) });
  assert.equal(runs, LOAD_RETRIES + 1);
  assert.equal(m.value, LOAD_RETRIES + 1, 'the last try is the one kept');
  assert.equal(m.loaded, true);
  assert.equal(m.tries, LOAD_RETRIES + 1);
  assert.equal(m.discarded.length, LOAD_RETRIES);
  assert.deepEqual(told.map(([, again]) => again), [...Array.from({ length: LOAD_RETRIES }, () => true), false]);
});

test('retries 0 marks without running again', async () => {
  const w = fakeWatch([[point(5)]]);
  const m = await measurePair(async () => 'x', { watch: w.watch, retries: 0 });
  assert.deepEqual({ loaded: m.loaded, tries: m.tries }, { loaded: true, tries: 1 });
});

test('a failing pair stops its watch and fails', async () => {
  const w = fakeWatch([[point(0)]]);
  await assert.rejects(measurePair(async () => { throw new Error('build failed'); }, { watch: w.watch }), /build failed/);
  assert.equal(w.started(), 1);
  assert.equal(w.stopped(), 1);
});
