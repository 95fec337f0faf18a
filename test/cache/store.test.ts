import { test } from 'node:test';
import assert from 'node:assert/strict';
import { show } from '../helpers/assert-values.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pruneCache } from '../../src/cache/prune.js';
import { defaultCacheRoot, LayerCache } from '../../src/cache/store.js';
import { VmgenError } from '../../src/errors.js';
import { baseParts, deferred, layer, tempCache, writeHello } from './helpers.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const DAY_MS = 24 * 60 * 60_000;

/** Resolves when `signal` aborts, rejecting with its reason, as a well-behaved producer does. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

const isCode = (code: string) => (e: unknown): boolean => e instanceof VmgenError && e.code === code;

test('defaultCacheRoot: VMGEN_CACHE_DIR, then /var/cache for root, then XDG, then ~/.cache', () => {
  assert.equal(defaultCacheRoot({ VMGEN_CACHE_DIR: '/srv/c', HOME: '/home/u' }, 0), '/srv/c');
  assert.equal(defaultCacheRoot({ HOME: '/root', XDG_CACHE_HOME: '/x' }, 0), '/var/cache/vmgen');
  assert.equal(defaultCacheRoot({ HOME: '/home/u', XDG_CACHE_HOME: '/x/cache' }, 1000), '/x/cache/vmgen');
  assert.equal(defaultCacheRoot({ HOME: '/home/u', XDG_CACHE_HOME: 'relative' }, 1000), '/home/u/.cache/vmgen');
  assert.equal(defaultCacheRoot({ HOME: '/home/u' }, 1000), '/home/u/.cache/vmgen');
});

test('fill makes the layer appear only when complete, and a second fill reuses it', async () => {
  const cache = await tempCache();
  const { key, meta } = layer('base');
  const result = await cache.fill(key, meta, async (rootfs, signal) => {
    assert.equal(signal.aborted, false);
    assert.equal(existsSync(join(cache.layersDir, key)), false);
    assert.equal(await cache.get(key), undefined);
    assert.deepEqual(await cache.list(), []);
    assert.deepEqual(readdirSync(rootfs), []);
    await writeHello(rootfs);
  });
  assert.equal(result.filled, true);
  assert.equal(result.layer.rootfs, join(cache.layersDir, key, 'rootfs'));
  assert.equal(readFileSync(join(result.layer.rootfs, 'hello'), 'utf8'), 'hello\n');
  assert.deepEqual(readdirSync(cache.layersDir), [key]);
  const stored = JSON.parse(readFileSync(join(cache.layersDir, key, 'meta.json'), 'utf8')) as { key: string; kind: string; bytes: number; created: string };
  assert.equal(stored.key, key);
  assert.equal(stored.kind, 'base');
  assert.ok(stored.bytes >= 'hello\n'.length, `${stored.bytes} bytes`);
  assert.ok(!Number.isNaN(Date.parse(stored.created)), `created ${show(stored.created)}`);

  let produced = false;
  const again = await cache.fill(key, meta, async () => void (produced = true));
  assert.deepEqual({ filled: again.filled, produced, rootfs: again.layer.rootfs }, { filled: false, produced: false, rootfs: result.layer.rootfs });
});

test('a key that does not match its meta, or is not a key, is refused', async () => {
  const cache = await tempCache();
  const { meta } = layer('base');
  await assert.rejects(cache.fill(layer('packages').key, meta, writeHello), isCode('VMG_CACHE_KEY'));
  await assert.rejects(cache.get('../../etc'), isCode('VMG_CACHE_KEY'));
});

test('a failing producer leaves neither a temporary nor a final directory, and releases the lock', async () => {
  const cache = await tempCache();
  const { key, meta } = layer('base');
  const boom = new Error('mmdebstrap failed');
  await assert.rejects(cache.fill(key, meta, async (rootfs) => {
    await writeHello(rootfs);
    throw boom;
  }), (e: unknown) => e === boom);
  assert.deepEqual(readdirSync(cache.layersDir), []);
  let waited = false;
  const ok = await cache.fill(key, meta, writeHello, { onWait: () => (waited = true) });
  assert.deepEqual({ filled: ok.filled, waited }, { filled: true, waited: false });
});

test('aborting during produce leaves nothing, even if the producer ignores the signal', async () => {
  const cache = await tempCache();
  const { key, meta } = layer('base');
  const stop = new AbortController();
  const reason = new Error('user pressed ^C');
  const fill = cache.fill(key, meta, async (rootfs, signal) => {
    await writeHello(rootfs);
    setImmediate(() => stop.abort(reason));
    await untilAborted(signal);
  }, { signal: stop.signal });
  await assert.rejects(fill, (e: unknown) => e === reason);
  assert.deepEqual(readdirSync(cache.layersDir), []);

  const stubborn = new AbortController();
  await assert.rejects(cache.fill(key, meta, async (rootfs) => {
    stubborn.abort(reason);
    await writeHello(rootfs);
  }, { signal: stubborn.signal }), (e: unknown) => e === reason);
  assert.deepEqual(readdirSync(cache.layersDir), []);
});

test('aborting while waiting for the lock stops the wait and leaves the holder alone', async () => {
  const cache = await tempCache();
  const { key, meta } = layer('base');
  const gate = deferred();
  const started = deferred();
  const holder = cache.fill(key, meta, async (rootfs) => {
    started.resolve();
    await gate.promise;
    await writeHello(rootfs);
  });
  await started.promise;
  const stop = new AbortController();
  const reason = new Error('cancelled');
  let produced = false;
  await assert.rejects(
    cache.fill(key, meta, async () => void (produced = true), { signal: stop.signal, onWait: () => stop.abort(reason) }),
    (e: unknown) => e === reason,
  );
  gate.resolve();
  assert.equal((await holder).filled, true);
  assert.equal(produced, false);
});

test('two fills of the same key in one process produce once; the second waits', async () => {
  const cache = await tempCache();
  const { key, meta } = layer('packages', ['nginx', 'systemd']);
  let produced = 0;
  let waits = 0;
  const fill = (): ReturnType<LayerCache['fill']> =>
    cache.fill(key, meta, async (rootfs) => {
      produced++;
      await sleep(300);
      await writeHello(rootfs);
    }, { onWait: () => waits++ });
  const results = await Promise.all([fill(), fill()]);
  assert.equal(produced, 1);
  assert.equal(waits, 1);
  assert.deepEqual(results.map((r) => r.filled).sort(), [false, true]);
  assert.equal(results[0].layer.rootfs, results[1].layer.rootfs);
});

test('fills of different keys run at the same time', async () => {
  const cache = await tempCache();
  const a = layer('base');
  const b = layer('packages', ['systemd', 'nginx']);
  const times: Record<string, { start: number; end: number }> = {};
  const bothStarted = deferred();
  let running = 0;
  const produce = (name: string) => async (rootfs: string): Promise<void> => {
    times[name] = { start: performance.now(), end: Number.NaN };
    if (++running === 2) bothStarted.resolve();
    // If fills of different keys were serialized this would time out and the intervals would not overlap.
    await Promise.race([bothStarted.promise, sleep(5000)]);
    await writeHello(rootfs);
    times[name]!.end = performance.now();
  };
  await Promise.all([cache.fill(a.key, a.meta, produce('a')), cache.fill(b.key, b.meta, produce('b'))]);
  const [ta, tb] = [times.a!, times.b!];
  assert.ok(ta.start < tb.end && tb.start < ta.end, `intervals overlap: ${JSON.stringify(times)}`);
});

/** A child process using the cache through the real module, so the locks cross process boundaries. */
function child(mode: 'fill' | 'hang', root: string, files: { log: string; waiting: string }): ChildProcess {
  const script = `
    import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
    import { setTimeout as sleep } from 'node:timers/promises';
    const { LayerCache } = await import(${JSON.stringify(join(repo, 'src/cache/store.ts'))});
    const { layerKey } = await import(${JSON.stringify(join(repo, 'src/cache/key.ts'))});
    const { mode, root, parts, log, waiting } = JSON.parse(process.env.VMGEN_TEST_CHILD);
    const cache = new LayerCache(root, { staleMs: 2000, maxWaitMs: 30000 });
    const key = layerKey('base', parts);
    const result = await cache.fill(key, { kind: 'base', parts }, async (rootfs) => {
      appendFileSync(log, 'produce ' + process.pid + '\\n');
      if (mode === 'hang') {
        console.log('locked');
        setInterval(() => {}, 1000);
        await new Promise(() => {});
      }
      // Hold the lock until the other process is seen waiting for it, so the two really contend.
      for (const until = Date.now() + 15000; !existsSync(waiting) && Date.now() < until; ) await sleep(50);
      writeFileSync(rootfs + '/hello', 'hello');
    }, { onWait: () => writeFileSync(waiting, String(process.pid)) });
    console.log(JSON.stringify({ filled: result.filled }));
  `;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repo,
    env: { ...process.env, VMGEN_TEST_CHILD: JSON.stringify({ mode, root, parts: baseParts, ...files }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function outputOf(proc: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, stdout, stderr })));
}

function firstLine(proc: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    proc.on('close', (code) => reject(new Error(`child exited with ${code} before printing`)));
  });
}

test('two processes filling the same key: one produces, the other waits and reuses it', async () => {
  const cache = await tempCache();
  const files = { log: join(cache.root, 'produce.log'), waiting: join(cache.root, 'waiting') };
  const runs = await Promise.all([outputOf(child('fill', cache.root, files)), outputOf(child('fill', cache.root, files))]);
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(files.log, 'utf8').trim().split('\n').length, 1, 'produce ran once');
  assert.ok(existsSync(files.waiting), 'the second process waited for the lock');
  const filled = runs.map((r) => (JSON.parse(r.stdout) as { filled: boolean }).filled).sort();
  assert.deepEqual(filled, [false, true]);
  const { key } = layer('base');
  assert.equal(readFileSync(join(cache.layersDir, key, 'rootfs', 'hello'), 'utf8'), 'hello');
});

test('a lock held by a live process blocks; once it is killed -9 the lock is taken over', async () => {
  const cache = await tempCache();
  const { key, meta } = layer('base');
  const files = { log: join(cache.root, 'produce.log'), waiting: join(cache.root, 'waiting') };
  const holder = child('hang', cache.root, files);
  const exited = outputOf(holder);
  assert.equal(await firstLine(holder), 'locked');

  const impatient = new LayerCache(cache.root, { staleMs: 2000, maxWaitMs: 3000 });
  await assert.rejects(impatient.fill(key, meta, writeHello), isCode('VMG_CACHE_LOCKED'));
  const busy = await pruneCache(cache);
  assert.equal(busy.removed.length, 0);
  assert.deepEqual(busy.skipped.map((s) => [s.what, s.key]), [['partial', key]]);

  holder.kill('SIGKILL');
  await exited;
  let waited = false;
  const result = await cache.fill(key, meta, writeHello, { onWait: () => (waited = true) });
  assert.equal(result.filled, true);
  assert.ok(waited, 'the dead holder left a fresh lock behind, which had to go stale first');
  // The killed fill's temporary directory is left over until prune finds its lock free.
  assert.equal((await readdir(cache.layersDir)).filter((n) => n.startsWith('.tmp-')).length, 1);
  const pruned = await pruneCache(cache);
  assert.deepEqual(pruned.removed.map((r) => [r.what, r.key]), [['partial', key]]);
  assert.deepEqual(await readdir(cache.layersDir), [key]);
  assert.deepEqual(await readdir(cache.locksDir), [], 'no lock directory is left behind');
});

test('list reports layers with size and last use; get counts as a use, list does not', async () => {
  const cache = await tempCache();
  const a = layer('base');
  const b = layer('packages', ['systemd', 'nginx', 'nginx']);
  await cache.fill(a.key, a.meta, async (rootfs) => writeFileSync(join(rootfs, 'big'), Buffer.alloc(10_000)));
  await cache.fill(b.key, b.meta, writeHello);
  const old = new Date(Date.now() - 40 * DAY_MS);
  utimesSync(join(cache.layersDir, a.key, 'last-used'), old, old);
  const listed = await cache.list();
  assert.deepEqual(listed.map((l) => [l.key, l.kind]), [[b.key, 'packages'], [a.key, 'base']]);
  assert.ok(listed[1]!.bytes >= 10_000, `${listed[1]!.bytes} bytes`);
  assert.equal(listed[1]!.lastUsed, old.toISOString());
  assert.deepEqual(listed[0]!.meta.parts.packages, ['nginx', 'systemd']);
  assert.equal((await cache.list())[1]!.lastUsed, old.toISOString());
  await cache.get(a.key);
  const lastUsed = (await cache.list()).find((l) => l.key === a.key)!.lastUsed;
  assert.ok(Date.parse(lastUsed) > Date.now() - 60_000, `last used ${lastUsed}, now ${new Date().toISOString()}`);
});
