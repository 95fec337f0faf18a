import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { sseEvents, type SseEvent } from '../../src/cli/commands/submit.js';
import { sseEvent } from '../../src/service/routes/events.js';
import { testService, waitFor, WEB_CONF, type TestService } from './fakes.js';

const CONFIG = readFileSync(WEB_CONF, 'utf8');
let svc: TestService | undefined;
afterEach(async () => {
  await svc?.close();
  svc = undefined;
});

async function listen(s: TestService): Promise<string> {
  return s.app.listen({ host: '127.0.0.1', port: 0 });
}

async function submitted(s: TestService): Promise<string> {
  const r = await s.app.inject({ method: 'POST', url: '/api/builds', headers: s.auth('alice'), payload: { config: CONFIG, target: 'lxc' } });
  return r.json().id;
}

/** Reads a stream's events as they come; `next` waits for one, `rest` for the stream to end. */
function follow(url: string, headers: Record<string, string>, raw?: (s: string) => void) {
  const controller = new AbortController();
  const queue: SseEvent[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const done = (async () => {
    const res = await fetch(url, { headers, signal: controller.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const body = res.body!;
    const tee = async function* () {
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        raw?.(Buffer.from(chunk).toString('utf8'));
        yield chunk;
      }
    };
    try {
      for await (const e of sseEvents(tee())) {
        queue.push(e);
        wake?.();
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
    ended = true;
    wake?.();
  })();
  return {
    async next(): Promise<SseEvent> {
      const end = Date.now() + 5000;
      while (queue.length === 0) {
        if (ended) throw new Error('stream ended');
        if (Date.now() > end) throw new Error('no event within 5 s');
        await new Promise<void>((ok) => {
          wake = ok;
          setTimeout(ok, 100);
        });
      }
      return queue.shift()!;
    },
    async rest(): Promise<SseEvent[]> {
      await done;
      return queue.splice(0);
    },
    abort: () => controller.abort(),
    done,
  };
}

describe('build events (SSE)', () => {
  it('formats events: several data lines for a multi-line value, the id first', () => {
    assert.equal(sseEvent('log', 'a\nb', 7), 'id: 7\nevent: log\ndata: a\ndata: b\n\n');
    assert.equal(sseEvent('update', '{}'), 'event: update\ndata: {}\n\n');
  });

  it('sends the log so far and the build, then each change, and ends after the final state', async () => {
    svc = await testService();
    const url = await listen(svc);
    const id = await submitted(svc);
    svc.executor.startBuild(id);
    svc.executor.emit({ id, log: ['first line'] });
    const f = follow(`${url}/api/builds/${id}/events`, svc.auth('alice'));
    const first = await f.next();
    assert.equal(first.event, 'log');
    assert.equal(first.data, 'first line');
    assert.match(first.id ?? '', /^\d+$/);
    const snap = await f.next();
    assert.equal(snap.event, 'update');
    assert.equal(JSON.parse(snap.data).state, 'running');
    assert.equal(svc.events.count(id), 1);

    svc.executor.emit({ id, step: 'stop and archive', progress: 0.75, log: ['packing\twith a tab', 'line with: colon'] });
    const logs = [await f.next(), await f.next()];
    assert.deepEqual(logs.map((e) => [e.event, e.data]), [['log', 'packing\twith a tab'], ['log', 'line with: colon']]);
    const ids = [first.id, logs[0]!.id, logs[1]!.id].map(Number);
    assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, `event ids ${ids.join(' ')} do not increase`);
    const progress = JSON.parse((await f.next()).data);
    assert.equal(progress.step, 'stop and archive');
    assert.equal(progress.progress, 0.75);

    await svc.executor.succeed(id, svc.store, svc.dir, 'bytes');
    const rest = await f.rest();
    assert.equal(rest.length, 1, JSON.stringify(rest));
    const final = JSON.parse(rest[0]!.data);
    assert.equal(final.state, 'succeeded');
    assert.equal(final.artifact.bytes, 5);
    await waitFor(() => svc!.events.count(id) === 0);
  });

  it('a build that has ended: its log and state, and the stream ends at once', async () => {
    svc = await testService({ auto: true });
    const url = await listen(svc);
    const id = await submitted(svc);
    await waitFor(() => svc!.db.getBuild(id)?.state === 'succeeded');
    const events = await follow(`${url}/api/builds/${id}/events`, svc.auth('alice')).rest();
    assert.deepEqual(events.map((e) => e.event), ['log', 'log', 'update']);
    assert.equal(JSON.parse(events[2]!.data).state, 'succeeded');
  });

  it('Last-Event-ID resumes after the last line the client saw', async () => {
    svc = await testService();
    const url = await listen(svc);
    const id = await submitted(svc);
    svc.executor.startBuild(id);
    svc.executor.emit({ id, log: ['one', 'two', 'three'] });
    svc.executor.emit({ id, state: 'failed', error: 'boom', errorCode: 'VMG_BUILD' });
    const all = await follow(`${url}/api/builds/${id}/events`, svc.auth('alice')).rest();
    const one = all.find((e) => e.data === 'one')!;
    const resumed = await follow(`${url}/api/builds/${id}/events`, { ...svc.auth('alice'), 'last-event-id': one.id! }).rest();
    assert.deepEqual(resumed.map((e) => e.event === 'log' ? e.data : JSON.parse(e.data).state), ['two', 'three', 'failed']);
    const final = JSON.parse(resumed.at(-1)!.data);
    assert.equal(final.error, 'boom');
    assert.equal(final.errorCode, 'VMG_BUILD');
  });

  it('every follower gets every event; one that leaves is unsubscribed', async () => {
    svc = await testService();
    const url = await listen(svc);
    const id = await submitted(svc);
    const a = follow(`${url}/api/builds/${id}/events`, svc.auth('alice'));
    const admin = follow(`${url}/api/builds/${id}/events`, svc.auth('root'));
    const leaver = follow(`${url}/api/builds/${id}/events`, svc.auth('alice'));
    await a.next();
    const adminSnap = JSON.parse((await admin.next()).data);
    assert.equal(adminSnap.owner, 'alice', 'the admin sees owners, in events too');
    await leaver.next();
    assert.equal(svc.events.count(id), 3);
    leaver.abort();
    await leaver.done;
    await waitFor(() => svc!.events.count(id) === 2);
    svc.executor.startBuild(id);
    svc.executor.emit({ id, state: 'canceled' });
    for (const f of [a, admin]) {
      const states = (await f.rest()).filter((e) => e.event === 'update').map((e) => JSON.parse(e.data).state);
      assert.deepEqual(states, ['running', 'canceled']);
    }
    assert.equal(svc.events.count(), 0);
  });

  it('keeps a quiet stream alive with comments, and closing the server ends open streams', async () => {
    svc = await testService({ heartbeatMs: 50 });
    const url = await listen(svc);
    const id = await submitted(svc);
    let text = '';
    const f = follow(`${url}/api/builds/${id}/events`, svc.auth('alice'), (s) => (text += s));
    await f.next();
    await waitFor(() => text.includes(': ping\n\n'));
    const closing = svc.close();
    svc = undefined;
    await f.rest();
    await closing;
  });
});
