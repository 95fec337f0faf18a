import assert from 'node:assert/strict';
import { show } from '../helpers/assert-values.js';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { VmgenError } from '../../src/errors.js';
import { LocalExecutor } from '../../src/service/executors/local.js';
import { decodeFailure, encodeFailure, lockMsFromEnv, redisOptions } from '../../src/service/executors/queue.js';
import type { Runner, RunnerContext } from '../../src/service/runner/run.js';
import { cleanWorkDir } from '../../src/service/runner/run.js';
import { UpdateMapper, type UpdateFields } from '../../src/service/runner/updates.js';
import type { ArtifactInfo, BuildRequest, BuildUpdate } from '../../src/service/types.js';

/** A runner whose builds end when the test says so; it records what it was asked to run. */
class FakeRunner {
  readonly started: string[] = [];
  private readonly pending = new Map<string, { ctx: RunnerContext; ok(a: ArtifactInfo): void; fail(e: unknown): void }>();

  readonly run: Runner = (req, ctx) => new Promise<ArtifactInfo>((ok, fail) => {
    this.started.push(req.id);
    this.pending.set(req.id, { ctx, ok, fail });
    ctx.signal.addEventListener('abort', () => fail(new VmgenError('VMG_CANCELLED', 'the build was cancelled')), { once: true });
  });

  ctx(id: string): RunnerContext {
    const p = this.pending.get(id);
    assert.ok(p, `${id} is not running`);
    return p.ctx;
  }

  succeed(id: string): ArtifactInfo {
    const artifact = { key: `${id}/m-lxc.tar.zst`, name: 'm-lxc.tar.zst', bytes: 10, sha256: 'ab'.repeat(32) };
    this.pending.get(id)!.ok(artifact);
    this.pending.delete(id);
    return artifact;
  }

  fail(id: string, err: unknown): void {
    this.pending.get(id)!.fail(err);
    this.pending.delete(id);
  }
}

function req(id: string): BuildRequest {
  return { id, owner: 'alice', config: '[hardware]\n', target: 'lxc' };
}

/** Lets the executor's promise chains run (a runner settling, the next build starting). */
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function started(concurrency: number): Promise<{ ex: LocalExecutor; runner: FakeRunner; updates: BuildUpdate[] }> {
  const runner = new FakeRunner();
  const updates: BuildUpdate[] = [];
  const ex = new LocalExecutor({ concurrency, runner: runner.run, worker: 'w1' });
  await ex.start((u) => updates.push(u));
  return { ex, runner, updates };
}

const of = (updates: BuildUpdate[], id: string): BuildUpdate[] => updates.filter((u) => u.id === id);
const states = (updates: BuildUpdate[], id: string): string[] => of(updates, id).flatMap((u) => (u.state ? [u.state] : []));

describe('LocalExecutor', () => {
  it('runs builds first in, first out, never more than `concurrency` at once', async () => {
    const { ex, runner } = await started(2);
    for (const id of ['a', 'b', 'c', 'd']) await ex.submit(req(id));
    await tick();
    assert.deepEqual(runner.started, ['a', 'b']);
    assert.deepEqual(ex.snapshot(), { queued: ['c', 'd'], running: ['a', 'b'] });
    runner.succeed('b');
    await tick();
    assert.deepEqual(runner.started, ['a', 'b', 'c']);
    runner.succeed('a');
    runner.succeed('c');
    await tick();
    assert.deepEqual(runner.started, ['a', 'b', 'c', 'd']);
    runner.succeed('d');
    await tick();
    assert.deepEqual(ex.snapshot(), { queued: [], running: [] });
  });

  it('a build that releases its slot (its process exited, its archive is being stored) lets the next one start, and still ends as itself', async () => {
    const { ex, runner, updates } = await started(1);
    for (const id of ['a', 'b', 'c']) await ex.submit(req(id));
    await tick();
    assert.deepEqual(runner.started, ['a']);
    runner.ctx('a').releaseSlot!();
    runner.ctx('a').releaseSlot!();
    await tick();
    assert.deepEqual(runner.started, ['a', 'b'], 'b starts while a stores its archive; releasing twice frees one slot');
    assert.deepEqual(ex.snapshot(), { queued: ['c'], running: ['a', 'b'] }, 'a is still running (and can be cancelled) until it is stored');
    runner.succeed('a');
    await tick();
    assert.deepEqual(runner.started, ['a', 'b'], 'a\'s end frees no second slot');
    assert.equal(of(updates, 'a').at(-1)?.state, 'succeeded');
    runner.succeed('b');
    await tick();
    assert.deepEqual(runner.started, ['a', 'b', 'c']);
    runner.succeed('c');
    await tick();
    assert.deepEqual(ex.snapshot(), { queued: [], running: [] });
  });

  it('at most `concurrency` builds store at once: a build that finds them all storing keeps its slot', async () => {
    const { ex, runner } = await started(1);
    for (const id of ['a', 'b', 'c']) await ex.submit(req(id));
    await tick();
    runner.ctx('a').releaseSlot!();
    await tick();
    assert.deepEqual(runner.started, ['a', 'b']);
    runner.ctx('b').releaseSlot!();
    await tick();
    assert.deepEqual(runner.started, ['a', 'b'], 'a still stores: b keeps its slot, c waits');
    runner.succeed('a');
    await tick();
    assert.deepEqual(runner.started, ['a', 'b'], 'b gave nothing back, and a\'s end frees a storing place, not a slot');
    runner.succeed('b');
    await tick();
    assert.deepEqual(runner.started, ['a', 'b', 'c']);
    runner.succeed('c');
    await tick();
    assert.deepEqual(ex.snapshot(), { queued: [], running: [] });
  });

  it('reports queued → running (worker, started) → the runner\'s updates → succeeded with the artifact', async () => {
    const { ex, runner, updates } = await started(1);
    await ex.submit(req('a'));
    await tick();
    runner.ctx('a').onUpdate({ step: 'configure', progress: 0.5 });
    runner.ctx('a').onUpdate({ log: ['one', 'two'] });
    const artifact = runner.succeed('a');
    await tick();
    const seen = of(updates, 'a');
    assert.deepEqual(seen.map((u) => u.state ?? u.step ?? u.log?.join()), ['queued', 'running', 'configure', 'one,two', 'succeeded']);
    const running = seen[1]!;
    assert.equal(running.worker, 'w1');
    assert.ok(running.started && !Number.isNaN(Date.parse(running.started)), `started ${show(running.started)}`);
    const done = seen[4]!;
    assert.deepEqual(done.artifact, artifact);
    assert.equal(done.progress, 1);
    assert.ok(done.finished && Date.parse(done.finished) >= Date.parse(running.started!), `started ${show(running.started)}, finished ${show(done.finished)}`);
  });

  it('cancels a queued build without running it', async () => {
    const { ex, runner, updates } = await started(1);
    await ex.submit(req('a'));
    await ex.submit(req('b'));
    await tick();
    await ex.cancel('b');
    runner.succeed('a');
    await tick();
    assert.deepEqual(runner.started, ['a']);
    assert.deepEqual(states(updates, 'b'), ['queued', 'canceled']);
  });

  it('cancels a running build through its signal, and the next one starts', async () => {
    const { ex, runner, updates } = await started(1);
    await ex.submit(req('a'));
    await ex.submit(req('b'));
    await tick();
    const signal = runner.ctx('a').signal;
    await ex.cancel('a');
    assert.equal(signal.aborted, true);
    await tick();
    assert.deepEqual(states(updates, 'a'), ['queued', 'running', 'canceled']);
    assert.deepEqual(runner.started, ['a', 'b']);
  });

  it('a failed build reports its message and error code; an unexpected error is VMG_BUILD', async () => {
    const { ex, runner, updates } = await started(2);
    await ex.submit(req('a'));
    await ex.submit(req('b'));
    await tick();
    runner.fail('a', new VmgenError('VMG_CONFIG_INVALID', 'the config does not validate: config:3:1: error: bad'));
    runner.fail('b', new Error('boom'));
    await tick();
    const a = of(updates, 'a').at(-1)!;
    assert.equal(a.state, 'failed');
    assert.equal(a.errorCode, 'VMG_CONFIG_INVALID');
    assert.match(a.error!, /config:3:1/);
    const b = of(updates, 'b').at(-1)!;
    assert.deepEqual([b.state, b.errorCode, b.error], ['failed', 'VMG_BUILD', 'boom']);
  });

  it('a submission before start() is reported and run once it starts', async () => {
    const runner = new FakeRunner();
    const ex = new LocalExecutor({ concurrency: 1, runner: runner.run, worker: 'w1' });
    await ex.submit(req('early'));
    assert.deepEqual(runner.started, []);
    const updates: BuildUpdate[] = [];
    await ex.start((u) => updates.push(u));
    await tick();
    assert.deepEqual(runner.started, ['early']);
    assert.deepEqual(states(updates, 'early'), ['queued', 'running']);
    runner.succeed('early');
  });

  it('refuses a duplicate id and a bad concurrency', async () => {
    const { ex } = await started(1);
    await ex.submit(req('a'));
    await assert.rejects(ex.submit(req('a')), /already queued or running/);
    assert.throws(() => new LocalExecutor({ concurrency: 0, runner: new FakeRunner().run, worker: 'w' }), /concurrency/);
  });

  it('close() cancels running builds and waits for them; queued ones are dropped', async () => {
    const { ex, runner, updates } = await started(1);
    await ex.submit(req('a'));
    await ex.submit(req('b'));
    await tick();
    await ex.close();
    assert.deepEqual(states(updates, 'a'), ['queued', 'running', 'canceled']);
    assert.deepEqual(states(updates, 'b'), ['queued']);
    assert.deepEqual(runner.started, ['a']);
    await assert.rejects(ex.submit(req('c')), /closed/);
  });
});

describe('UpdateMapper', () => {
  it('computes overall progress from the step index, total and fraction, and sends pending log lines before a step change', () => {
    const out: UpdateFields[] = [];
    const m = new UpdateMapper((u) => out.push(u), 10_000);
    m.event({ kind: 'start', step: 'one', index: 0, total: 4 });
    m.log('a');
    m.log('b');
    m.event({ kind: 'done', step: 'one', index: 0, total: 4, ms: 5 });
    m.event({ kind: 'skip', step: 'two', index: 1, total: 4 });
    m.event({ kind: 'start', step: 'three', index: 2, total: 4 });
    m.event({ kind: 'progress', step: 'three', fraction: 0.5 });
    m.event({ kind: 'progress', step: 'three', fraction: 0.501 });
    m.log('c');
    m.event({ kind: 'cleanup-failed', step: 'three', error: 'umount: busy' });
    m.flush();
    assert.deepEqual(out, [
      { step: 'one', progress: 0 },
      { log: ['a', 'b'] },
      { progress: 0.25 },
      { progress: 0.5 },
      { step: 'three', progress: 0.5 },
      { progress: 0.625 },
      { log: ['c', 'cleanup of three failed: umount: busy'] },
    ]);
  });

  it('batches log lines by time', async () => {
    const out: UpdateFields[] = [];
    const m = new UpdateMapper((u) => out.push(u), 20);
    m.log('x');
    m.log('y');
    assert.deepEqual(out, []);
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(out, [{ log: ['x', 'y'] }]);
  });
});

describe('cleanWorkDir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-work-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('removes folders of dead processes on this host, keeps live ones and other hosts\'', async () => {
    // A pid above the kernel's limit (pid_max ≤ 4194304) is never alive.
    const dead = `${hostname()}-4194999`;
    const live = `${hostname()}-1`;
    const other = 'another-host-4194999';
    for (const d of [dead, live, other]) mkdirSync(join(dir, d, 'build-x'), { recursive: true });
    assert.deepEqual(await cleanWorkDir(dir), [dead]);
    assert.deepEqual(readdirSync(dir).sort(), [live, other].sort());
  });
});

describe('queue conventions', () => {
  it('reads redis:// addresses and refuses anything else', () => {
    assert.deepEqual(redisOptions('redis://127.0.0.1:6390'), { host: '127.0.0.1', port: 6390, db: 0, maxRetriesPerRequest: null });
    assert.deepEqual(redisOptions('redis://u:p%40ss@queue.example:7000/3'), {
      host: 'queue.example', port: 7000, db: 3, username: 'u', password: 'p@ss', maxRetriesPerRequest: null,
    });
    assert.equal(redisOptions('redis://[::1]').host, '::1');
    assert.deepEqual(redisOptions('rediss://q.example').tls, {});
    for (const bad of ['http://h:1', 'redis://', 'redis://h/x', 'redis://h:1?x=1', 'h:6379', '']) assert.throws(() => redisOptions(bad), /bad queue address/, bad);
  });

  it('carries error codes through a job\'s failedReason', () => {
    assert.deepEqual(decodeFailure(encodeFailure('VMG_CONFIG_INVALID', 'line 3\nline 4')), { code: 'VMG_CONFIG_INVALID', message: 'line 3\nline 4' });
    assert.deepEqual(decodeFailure('job stalled more than allowable limit'), { code: 'VMG_QUEUE', message: 'job stalled more than allowable limit' });
  });

  it('takes the lock duration from VMGEN_QUEUE_LOCK_MS', () => {
    assert.equal(lockMsFromEnv({}), 30_000);
    assert.equal(lockMsFromEnv({ VMGEN_QUEUE_LOCK_MS: '3000' }), 3000);
    for (const bad of ['10', 'x', '2.5']) assert.throws(() => lockMsFromEnv({ VMGEN_QUEUE_LOCK_MS: bad }), /VMGEN_QUEUE_LOCK_MS/);
  });
});
