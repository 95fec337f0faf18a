import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createToken } from '../../src/service/auth.js';
import { ServiceDb } from '../../src/service/db.js';
import { startServer } from '../../src/service/server.js';
import { FakeExecutor, testCatalogs } from './fakes.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/**
 * Texts that took the config reader seconds to minutes (issue 13): each must be answered, and
 * while it is read, another client's /healthz must still answer at once.
 */
const KIB = 1024;
const PATHOLOGICAL: Record<string, string> = {
  '256 KiB of [': '['.repeat(256 * KIB),
  'a repo line of 62,000 a://': `[hardware]\nos = debian-12\n[config]\n[[repos]]\nr = deb ${'a://'.repeat(62_000)}\n`,
  'a dns list that backtracks': `[hardware]\nos = debian-12\n[network]\ndns = ${'a ,'.repeat(40)}'\n`,
};

describe('service: no request stalls the server', () => {
  it('answers /healthz in under 1 s while pathological configs are submitted and parsed', async () => {
    const data = mkdtempSync(join(tmpdir(), 'vmgen-stall-'));
    dirs.push(data);
    const db = ServiceDb.open(data);
    // One user per text: a user's own share of the checker is not what this test is about.
    const tokens = Object.keys(PATHOLOGICAL).map((_, i) => createToken(db, `user${i}`, false).token);
    db.close();
    const server = await startServer({
      dataDir: data, host: '127.0.0.1', port: 0, concurrency: 1, catalogs: testCatalogs(), executor: new FakeExecutor(),
      // Room for 256 KiB of config inside the JSON; a 2 s budget keeps the test short.
      limits: { bodyLimit: 1024 * KIB, checkTimeoutMs: 2000 },
      sourcePolicy: { allow: [], allowPublic: false },
    });
    const headers = (i: number) => ({ authorization: `Bearer ${tokens[i]}`, 'content-type': 'application/json' });
    // The client's first fetch loads its HTTP stack (~0.5 s here): not the server's time.
    await (await fetch(`${server.url}/healthz`)).arrayBuffer();
    let polling = true;
    const latencies: number[] = [];
    const poller = (async () => {
      while (polling) {
        const t0 = performance.now();
        const r = await fetch(`${server.url}/healthz`);
        await r.arrayBuffer();
        latencies.push(performance.now() - t0);
        assert.equal(r.status, 200, '/healthz answers 200');
        await new Promise((ok) => setTimeout(ok, 25));
      }
    })();
    try {
      const answers: Record<string, { status: number; code: string; ms: number }> = {};
      await Promise.all(Object.entries(PATHOLOGICAL).flatMap(([name, config], i) => [
        (async () => {
          const t0 = performance.now();
          const r = await fetch(`${server.url}/api/builds`, { method: 'POST', headers: headers(i), body: JSON.stringify({ config, target: 'qemu' }) });
          answers[`submit: ${name}`] = { status: r.status, code: (await r.json()).error?.code, ms: Math.round(performance.now() - t0) };
        })(),
        (async () => {
          const t0 = performance.now();
          const r = await fetch(`${server.url}/api/config/parse`, { method: 'POST', headers: headers(i), body: JSON.stringify({ text: config }) });
          const body = await r.json();
          answers[`parse: ${name}`] = { status: r.status, code: body.error?.code ?? (body.valid ? 'valid' : 'invalid'), ms: Math.round(performance.now() - t0) };
        })(),
      ]));
      polling = false;
      await poller;
      const max = Math.max(...latencies);
      const sorted = [...latencies].sort((a, b) => a - b);
      const p50 = sorted[Math.floor(sorted.length / 2)]!;
      console.log(`healthz: ${latencies.length} polls, median ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms; answers: ${JSON.stringify(answers)}`);
      assert.ok(latencies.length >= 10, `polled throughout (${latencies.length} polls)`);
      assert.ok(max < 1000, `/healthz answered within 1 s every time (max ${max.toFixed(1)} ms)`);
      for (const [name, a] of Object.entries(answers)) {
        if (name.startsWith('submit')) assert.equal(a.status, 422, `${name}: refused up front (${JSON.stringify(a)})`);
        else assert.ok(a.status === 422 || (a.status === 200 && a.code === 'invalid'), `${name}: answered as invalid (${JSON.stringify(a)})`);
        // Six texts share the checker's workers: each waits for those before it, then gets its 2 s.
        assert.ok(a.ms < 6 * (2000 + 3000), `${name}: answered (${a.ms} ms)`);
      }
    } finally {
      polling = false;
      await poller.catch(() => {});
      await server.close();
    }
  });
});
