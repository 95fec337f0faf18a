import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KTHREADD, notOtherWork, othersRunning, parseLoadavg, parseStat, readLoadPoint, treeOf } from '../../scripts/bench-proc.js';

test('parseLoadavg: the 1-minute average and the running count', () => {
  assert.deepEqual(parseLoadavg('4.00 2.11 1.91 7/203 26131\n'), { avg1: 4, running: 7 });
  assert.throws(() => parseLoadavg('garbage'), /unexpected/);
});

test('parseStat: state and parent, with spaces and parentheses in the command name', () => {
  assert.deepEqual(parseStat('26265 (cat) R 26263 26263 24053 0 -1 4194304 98 0'), { pid: 26265, state: 'R', ppid: 26263 });
  assert.deepEqual(parseStat('812 (tmux: server (x)) S 1 812 812 0 -1'), { pid: 812, state: 'S', ppid: 1 });
  assert.throws(() => parseStat('nonsense'), /unexpected/);
});

test('treeOf: the root and everything below it, not its siblings or parent', () => {
  const procs = [
    { pid: 1, ppid: 0, state: 'S' }, { pid: 10, ppid: 1, state: 'S' }, { pid: 11, ppid: 10, state: 'R' },
    { pid: 12, ppid: 11, state: 'R' }, { pid: 20, ppid: 1, state: 'R' }, { pid: 13, ppid: 10, state: 'S' },
  ];
  assert.deepEqual([...treeOf(procs, 10)].sort((a, b) => a - b), [10, 11, 12, 13]);
});

test('notOtherWork: the bench\'s tree and the kernel\'s threads, not another program', () => {
  const procs = [
    { pid: 1, ppid: 0, state: 'S' }, { pid: KTHREADD, ppid: 0, state: 'S' }, { pid: 40, ppid: KTHREADD, state: 'R' },
    { pid: 10, ppid: 1, state: 'S' }, { pid: 11, ppid: 10, state: 'R' }, { pid: 20, ppid: 1, state: 'R' },
  ];
  assert.deepEqual([...notOtherWork(procs, 10)].sort((a, b) => a - b), [2, 10, 11, 40]);
});

test('this host\'s kernel threads are below kthreadd', async () => {
  const { readdir, readFile } = await import('node:fs/promises');
  const kthreads = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (text !== undefined && parseStat(text).ppid === KTHREADD) kthreads.push(pid);
  }
  assert.ok(kthreads.length > 0, 'pid 2 has children: the kernel\'s threads');
});

test('othersRunning counts the running threads of processes that are not ours', () => {
  const threads = [{ pid: 10, state: 'R' }, { pid: 10, state: 'S' }, { pid: 11, state: 'R' }, { pid: 12, state: 'R' }, { pid: 12, state: 'R' }, { pid: 13, state: 'D' }];
  assert.equal(othersRunning(threads, new Set([10])), 3);
  assert.equal(othersRunning(threads, new Set([10, 11, 12, 13])), 0);
});

test('readLoadPoint reads this host: a load average and a whole count of other work', async () => {
  const p = await readLoadPoint();
  assert.ok(Number.isFinite(p.avg1) && p.avg1 >= 0, `avg1 ${p.avg1}`);
  assert.ok(Number.isInteger(p.others) && p.others >= 0, `others ${p.others}`);
});
