import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { VmgenError } from '../../src/errors.js';
import { Queue } from 'bullmq';
import { QUEUE_NAME, redisOptions, useIoredis } from '../../src/service/executors/queue.js';
import { RedisExecutor } from '../../src/service/executors/redis.js';
import { startQueueWorker, type QueueWorker } from '../../src/service/executors/worker.js';
import type { Runner } from '../../src/service/runner/run.js';
import type { ArtifactInfo, BuildRequest, BuildUpdate } from '../../src/service/types.js';
import { freePort } from '../helpers/net.js';

/*
 * A server that was down while workers went on: the restarted server's executor asks the queue
 * (a real redis-server, BullMQ, vmgen's own worker with a runner that needs no build) what became
 * of the builds its table still has queued or running.
 */
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

const artifactOf = (id: string): ArtifactInfo => ({ key: `${id}/m-lxc.tar`, name: 'm-lxc.tar', bytes: 10, sha256: 'cd'.repeat(32) });
const request = (id: string): BuildRequest => ({ id, owner: 'alice', config: '[hardware]\n', target: 'lxc' });
const until = async (what: () => boolean, ms = 15_000): Promise<void> => {
  for (const end = Date.now() + ms; !what(); ) {
    assert.ok(Date.now() < end, 'the condition held in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('RedisExecutor.resync after a restart', { skip: hasRedis ? false : 'needs redis-server (scripts/setup.sh installs it)' }, () => {
  let redis: ChildProcess | undefined;
  let url = '';
  let worker: QueueWorker | undefined;
  let releaseActive: (() => void) | undefined;
  const ran: string[] = [];

  /** Build "ok" succeeds, "bad" fails for good, "slow" runs until the test releases it. */
  const runner: Runner = async (req, ctx) => {
    ran.push(req.id);
    if (req.id === 'bad') throw new VmgenError('VMG_BUILD', 'apt said no');
    if (req.id === 'slow') {
      ctx.onUpdate({ state: 'running', step: 'configure', progress: 0.4, log: ['configuring'] });
      await new Promise<void>((ok) => (releaseActive = ok));
    }
    return artifactOf(req.id);
  };

  before(async () => {
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((ok, fail) => {
      redis!.stdout!.on('data', (d: Buffer) => { if (/Ready to accept connections/.test(d.toString())) ok(); });
      redis!.once('exit', (code) => fail(new Error(`redis-server exited with ${code}`)));
    });
  });

  after(async () => {
    releaseActive?.();
    await worker?.close();
    redis?.kill('SIGKILL');
  });

  it('reads the outcome of builds that ended while the server was down, and fails the ones the queue lost', async () => {
    // The first server submits four builds, then goes down before any worker runs.
    const first = new RedisExecutor({ url });
    await first.start(() => {});
    for (const id of ['ok', 'bad', 'slow', 'waiting']) await first.submit(request(id));
    await first.close();

    // A worker runs them meanwhile: ok and bad end, slow stays running; "waiting" waits for a free slot.
    worker = await startQueueWorker({ url, concurrency: 1, name: 'w1', runner });
    await until(() => ran.includes('slow'));
    // The worker reports progress on its own schedule: wait until the queue holds slow's step.
    useIoredis();
    const look = new Queue(QUEUE_NAME, { connection: redisOptions(url) });
    try {
      let step: string | undefined;
      for (const end = Date.now() + 15_000; step === undefined && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
        step = ((await look.getJob('slow'))?.progress as { step?: string } | undefined)?.step;
      }
      assert.equal(step, 'configure', 'the queue holds the running build\'s last report');
    } finally {
      await look.close();
    }
    assert.deepEqual(ran.filter((id) => id !== 'slow'), ['ok', 'bad'], 'ok and bad ran first, one at a time');

    // The restarted server asks about what its table still has open, plus one redis never had.
    const updates: BuildUpdate[] = [];
    const second = new RedisExecutor({ url });
    await second.start((u) => updates.push(u));
    try {
      await second.resync(['ok', 'bad', 'slow', 'waiting', 'gone']);
      const last = (id: string): BuildUpdate | undefined => updates.filter((u) => u.id === id).at(-1);
      assert.deepEqual(last('ok'), { id: 'ok', state: 'succeeded', finished: last('ok')?.finished, progress: 1, artifact: artifactOf('ok') });
      assert.equal(last('bad')?.state, 'failed');
      assert.equal(last('bad')?.errorCode, 'VMG_BUILD');
      assert.equal(last('bad')?.error, 'apt said no');
      assert.equal(last('slow')?.state, 'running');
      assert.equal(last('slow')?.worker, 'w1');
      assert.equal(last('slow')?.step, 'configure');
      assert.equal(last('slow')?.log, undefined, 'log lines already sent are not sent again');
      assert.equal(last('waiting')?.state, 'queued');
      assert.equal(last('gone')?.state, 'failed');
      assert.equal(last('gone')?.errorCode, 'VMG_INTERRUPTED');

      // What happens from now on reaches the restarted server as events again.
      releaseActive!();
      await until(() => updates.some((u) => u.id === 'waiting' && u.state === 'succeeded'));
      assert.ok(updates.some((u) => u.id === 'slow' && u.state === 'succeeded'), 'slow succeeded after the restart');
    } finally {
      await second.close();
    }
  });
});
