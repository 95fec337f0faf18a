import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { VmgenError } from '../../src/errors.js';
import { WorkerPool, type PoolOptions } from '../../src/service/validation/pool.js';

const pools: Array<WorkerPool<unknown, unknown>> = [];
after(() => Promise.all(pools.map((p) => p.close())));

function pool(o: Partial<PoolOptions> = {}): WorkerPool<unknown, unknown> {
  const p = new WorkerPool<unknown, unknown>({
    entry: new URL('./fixtures/pool-worker.ts', import.meta.url),
    size: 1, timeoutMs: 1500, maxQueue: 8, maxHeapMb: 64,
    overBudget: (what) => new VmgenError('VMG_CONFIG_TOO_COMPLEX', `over budget: ${what}`),
    ...o,
  });
  pools.push(p);
  return p;
}

async function refusal(p: Promise<unknown>): Promise<VmgenError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof VmgenError, `a VmgenError, not ${String(err)}`);
    return err;
  }
  assert.fail('the task should have been refused');
}

describe('worker pool: tasks off the request thread, under a budget', () => {
  it('a task that never ends is stopped at its budget, its worker replaced, and the event loop stays free meanwhile', async () => {
    const p = pool();
    assert.equal(await p.run({ do: 'echo', value: 'warm' }), 'warm');
    let ticks = 0;
    let worstGap = 0;
    let last = Date.now();
    const ticker = setInterval(() => {
      const now = Date.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
      ticks++;
    }, 20);
    const started = Date.now();
    const err = await refusal(p.run({ do: 'spin' }));
    const took = Date.now() - started;
    clearInterval(ticker);
    assert.equal(err.code, 'VMG_CONFIG_TOO_COMPLEX');
    assert.match(err.message, /time/);
    assert.ok(took >= 1400 && took < 4000, `stopped at its budget (${took} ms)`);
    assert.ok(ticks > 20 && worstGap < 500, `the event loop ran throughout (${ticks} ticks, worst gap ${worstGap} ms)`);
    assert.deepEqual(await p.run({ do: 'echo', value: { a: [1, 2] } }), { a: [1, 2] }, 'a new worker takes the next task');
  });

  it('errors keep their code and hint; a stack overflow and a heap over its limit are the input\'s fault', async () => {
    const p = pool({ timeoutMs: 20_000 });
    const e = await refusal(p.run({ do: 'fail' }));
    assert.equal(e.code, 'VMG_KEY_PATH');
    assert.equal(e.hint, 'a hint');
    assert.match((await refusal(p.run({ do: 'stack' }))).message, /depth/);
    assert.match((await refusal(p.run({ do: 'grow' }))).message, /memory/);
    assert.equal(await p.run({ do: 'echo', value: 1 }), 1);
  });

  it('refuses work past its queue and one key past its share, and answers tasks of others first', async () => {
    const p = pool({ size: 1, maxQueue: 2, maxPerKey: 2, timeoutMs: 800 });
    assert.equal(await p.run({ do: 'echo', value: 'warm' }), 'warm');
    const order: string[] = [];
    const a1 = p.run({ do: 'spin' }, 'alice').catch(() => order.push('a1'));
    const a2 = p.run({ do: 'echo', value: 'a2' }, 'alice').then(() => order.push('a2'));
    assert.equal((await refusal(p.run({ do: 'echo', value: 'a3' }, 'alice'))).code, 'VMG_RATE_LIMITED');
    const b1 = p.run({ do: 'echo', value: 'b1' }, 'bob').then(() => order.push('b1'));
    assert.equal((await refusal(p.run({ do: 'echo' }, 'carol'))).code, 'VMG_BUSY', 'the queue holds two');
    await Promise.all([a1, a2, b1]);
    assert.deepEqual(order, ['a1', 'b1', 'a2'], "bob's task went before alice's second");
  });

  it('close refuses what waits and ends the workers', async () => {
    const p = pool({ timeoutMs: 10_000 });
    const running = refusal(p.run({ do: 'spin' }));
    const waiting = refusal(p.run({ do: 'echo', value: 1 }));
    await new Promise((ok) => setTimeout(ok, 300));
    await p.close();
    assert.equal((await running).code, 'VMG_BUSY');
    assert.equal((await waiting).code, 'VMG_BUSY');
    assert.equal(p.workers, 0);
  });
});
