import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DirArtifactStore } from '../../src/service/artifacts/index.js';
import { createToken } from '../../src/service/auth.js';
import { ServiceDb } from '../../src/service/db.js';
import { INTERRUPTED } from '../../src/service/jobs.js';
import { startServer } from '../../src/service/server.js';
import { FakeExecutor, testCatalogs, waitFor, WEB_CONF } from './fakes.js';

const CONFIG = readFileSync(WEB_CONF, 'utf8');
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vmgen-srv-'));
  dirs.push(d);
  return d;
}

function insert(db: ServiceDb, id: string, created: string): void {
  db.insertBuild({ id, owner: 'alice', target: 'lxc', format: 'tar.zst', name: 'web1', config: CONFIG, created });
}

describe('server start-up and shutdown', () => {
  it('after a stop: running builds fail with a reason, queued ones go to the executor again in order, debris and old artifacts go', async () => {
    const data = dataDir();
    const db = ServiceDb.open(data);
    const token = createToken(db, 'alice', false).token;
    insert(db, 'runningAAAAAAAAA', '2026-01-01T00:00:00.000Z');
    db.applyUpdate({ id: 'runningAAAAAAAAA', state: 'running', worker: 'old', step: 'configure', progress: 0.5 });
    insert(db, 'queued2AAAAAAAAA', '2026-01-01T00:00:02.000Z');
    insert(db, 'queued1AAAAAAAAA', '2026-01-01T00:00:01.000Z');
    insert(db, 'expiredAAAAAAAAA', '2026-01-01T00:00:00.000Z');
    const artifacts = join(data, 'artifacts');
    const store = new DirArtifactStore(artifacts);
    writeFileSync(join(data, 'old.tar'), 'old archive');
    const put = await store.put('expiredAAAAAAAAA/web1-lxc.tar.zst', join(data, 'old.tar'));
    db.applyUpdate({ id: 'expiredAAAAAAAAA', state: 'succeeded', finished: '2026-01-01T00:00:05.000Z', artifact: { key: 'expiredAAAAAAAAA/web1-lxc.tar.zst', name: 'web1-lxc.tar.zst', ...put } });
    mkdirSync(join(artifacts, '.incoming'), { recursive: true });
    writeFileSync(join(artifacts, '.incoming', 'dead.part'), 'half an archive');
    db.close();

    const executor = new FakeExecutor();
    const server = await startServer({
      dataDir: data, host: '127.0.0.1', port: 0, concurrency: 1, catalogs: testCatalogs(), executor,
      artifactLimits: { maxAgeMs: 7 * 86_400_000 },
    });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const running = server.db.getBuild('runningAAAAAAAAA')!;
      assert.equal(running.state, 'failed');
      assert.equal(running.error, INTERRUPTED);
      assert.equal(running.errorCode, 'VMG_INTERRUPTED');
      assert.match(running.finished ?? '', /^\d{4}-/);
      assert.equal(executor.started, true);
      assert.deepEqual(executor.submitted.map((s) => s.id), ['queued1AAAAAAAAA', 'queued2AAAAAAAAA']);
      assert.equal(executor.submitted[0]!.config, CONFIG);
      assert.equal(server.db.getBuild('expiredAAAAAAAAA')!.artifact, null, 'start-up GC removed the expired artifact');
      assert.equal(existsSync(join(artifacts, 'expiredAAAAAAAAA')), false);
      assert.equal(existsSync(join(artifacts, '.incoming', 'dead.part')), false);
      const r = await fetch(`${server.url}/api/builds/runningAAAAAAAAA`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await r.json()).state, 'failed');
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    } finally {
      await server.close();
    }
    assert.equal(executor.closed, true);
  });

  it('with the build queue: running and queued builds are neither failed nor re-submitted, but asked of the queue, whose answer sticks', async () => {
    const data = dataDir();
    const db = ServiceDb.open(data);
    insert(db, 'runningAAAAAAAAA', '2026-01-01T00:00:00.000Z');
    db.applyUpdate({ id: 'runningAAAAAAAAA', state: 'running', worker: 'w1', step: 'configure', progress: 0.5 });
    insert(db, 'queuedAAAAAAAAAA', '2026-01-01T00:00:01.000Z');
    insert(db, 'doneAAAAAAAAAAAA', '2026-01-01T00:00:02.000Z');
    db.applyUpdate({ id: 'doneAAAAAAAAAAAA', state: 'succeeded', finished: '2026-01-01T00:00:03.000Z' });
    db.close();

    const asked: string[][] = [];
    const artifact = { key: 'runningAAAAAAAAA/web1-lxc.tar.zst', name: 'web1-lxc.tar.zst', bytes: 3, sha256: 'ab'.repeat(32) };
    const executor = new (class extends FakeExecutor {
      async resync(ids: readonly string[]): Promise<void> {
        asked.push([...ids]);
        // What the queue says: the running one finished meanwhile, the queued one is still waiting.
        this.emit({ id: 'runningAAAAAAAAA', state: 'succeeded', finished: '2026-01-01T01:00:00.000Z', progress: 1, artifact });
        this.emit({ id: 'queuedAAAAAAAAAA', state: 'queued' });
      }
    })();
    const server = await startServer({ dataDir: data, host: '127.0.0.1', port: 0, concurrency: 1, catalogs: testCatalogs(), executor, queue: 'redis://127.0.0.1:1' });
    try {
      assert.deepEqual(asked, [['runningAAAAAAAAA', 'queuedAAAAAAAAAA']], 'open builds only, running first');
      assert.deepEqual(executor.submitted, [], 'nothing is submitted twice');
      const done = server.db.getBuild('runningAAAAAAAAA')!;
      assert.equal(done.state, 'succeeded');
      assert.deepEqual(done.artifact, artifact);
      assert.equal(server.db.getBuild('queuedAAAAAAAAAA')!.state, 'queued');
    } finally {
      await server.close();
    }
  });

  it('shutting down: builds the executor stops are interrupted, not cancelled; a user\'s cancel stays a cancel', async () => {
    const data = dataDir();
    const executor = new FakeExecutor();
    const server = await startServer({ dataDir: data, host: '127.0.0.1', port: 0, concurrency: 2, catalogs: testCatalogs(), executor });
    const token = createToken(server.db, 'alice', false).token;
    const post = async () => (await (await fetch(`${server.url}/api/builds`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ config: CONFIG, target: 'lxc' }),
    })).json()).id as string;
    const a = await post();
    const b = await post();
    const c = await post();
    executor.startBuild(a);
    executor.startBuild(b);
    const del = await fetch(`${server.url}/api/builds/${b}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal((await del.json()).state, 'canceled');
    const db = server.db;
    await server.close();
    const reopened = ServiceDb.open(data);
    try {
      assert.equal(reopened.getBuild(a)!.state, 'failed');
      assert.equal(reopened.getBuild(a)!.errorCode, 'VMG_INTERRUPTED');
      assert.equal(reopened.getBuild(b)!.state, 'canceled');
      assert.equal(reopened.getBuild(c)!.state, 'queued', 'a queued build waits for the next start');
    } finally {
      reopened.close();
    }
    assert.equal(db.db.open, false);
  });

  it('a port in use is a usage error, and the database is closed again', async () => {
    const data = dataDir();
    const first = await startServer({ dataDir: data, host: '127.0.0.1', port: 0, concurrency: 1, catalogs: testCatalogs(), executor: new FakeExecutor() });
    try {
      const port = Number(new URL(first.url).port);
      await assert.rejects(
        startServer({ dataDir: dataDir(), host: '127.0.0.1', port, concurrency: 1, catalogs: testCatalogs(), executor: new FakeExecutor() }),
        /port is in use/,
      );
    } finally {
      await first.close();
    }
  });

  it('runs GC periodically', async () => {
    const data = dataDir();
    const executor = new FakeExecutor();
    const server = await startServer({
      dataDir: data, host: '127.0.0.1', port: 0, concurrency: 1, catalogs: testCatalogs(), executor,
      artifactLimits: { maxTotalBytes: 10 }, gcIntervalMs: 50,
    });
    try {
      const user = { id: 'alice-id', name: 'alice', admin: false };
      const row = await server.jobs.submit(user, { config: CONFIG, target: 'lxc', format: 'tar.zst', name: 'web1', steps: [] });
      executor.startBuild(row.id);
      await executor.succeed(row.id, new DirArtifactStore(join(data, 'artifacts')), data, 'more than ten bytes');
      assert.notEqual(server.db.getBuild(row.id)!.artifact, null, 'the build has an artifact');
      await waitFor(() => server.db.getBuild(row.id)!.artifact === null, 3000);
    } finally {
      await server.close();
    }
  });

  it('makes a pre-existing 0755 data directory, its database, work dir, artifacts and archives private at start', async () => {
    const data = dataDir();
    chmodSync(data, 0o755);
    const db = ServiceDb.open(data);
    insert(db, 'doneAAAAAAAAAAAA', new Date().toISOString());
    const store = new DirArtifactStore(join(data, 'artifacts'));
    writeFileSync(join(data, 'a.tar'), 'an archive');
    const put = await store.put('doneAAAAAAAAAAAA/web1-lxc.tar.zst', join(data, 'a.tar'));
    assert.equal(statSync(join(data, 'artifacts', 'doneAAAAAAAAAAAA', 'web1-lxc.tar.zst')).mode & 0o777, 0o600, 'a new archive is private');
    db.applyUpdate({ id: 'doneAAAAAAAAAAAA', state: 'succeeded', finished: new Date().toISOString(), artifact: { key: 'doneAAAAAAAAAAAA/web1-lxc.tar.zst', name: 'web1-lxc.tar.zst', ...put } });
    db.close();
    // As an admin's mkdir, a restored backup or an older vmgen leaves them.
    mkdirSync(join(data, 'work'), { mode: 0o755 });
    const paths = [data, join(data, 'work'), join(data, 'artifacts'), join(data, 'artifacts', 'doneAAAAAAAAAAAA'), join(data, 'artifacts', 'doneAAAAAAAAAAAA', 'web1-lxc.tar.zst'), join(data, 'service.db')];
    for (const p of paths) chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
    const server = await startServer({ dataDir: data, host: '127.0.0.1', port: 0, concurrency: 1, catalogs: testCatalogs(), executor: new FakeExecutor() });
    try {
      for (const p of paths) assert.equal(statSync(p).mode & 0o777, statSync(p).isDirectory() ? 0o700 : 0o600, p);
      assert.equal(server.db.getBuild('doneAAAAAAAAAAAA')?.artifact?.key, 'doneAAAAAAAAAAAA/web1-lxc.tar.zst', 'nothing else changed');
    } finally {
      await server.close();
    }
  });

  it('deletes builds that ended before --keep-builds at start and on its timer', async () => {
    const data = dataDir();
    const db = ServiceDb.open(data);
    insert(db, 'oldAAAAAAAAAAAAA', '2026-01-01T00:00:00.000Z');
    db.applyUpdate({ id: 'oldAAAAAAAAAAAAA', state: 'failed', finished: '2026-01-01T00:00:01.000Z' });
    insert(db, 'newAAAAAAAAAAAAA', new Date().toISOString());
    db.applyUpdate({ id: 'newAAAAAAAAAAAAA', state: 'failed', finished: new Date().toISOString() });
    db.close();
    const server = await startServer({
      dataDir: data, host: '127.0.0.1', port: 0, concurrency: 1, catalogs: testCatalogs(), executor: new FakeExecutor(),
      buildLimits: { maxAgeMs: 30 * 86_400_000 },
    });
    try {
      assert.equal(server.db.getBuild('oldAAAAAAAAAAAAA'), undefined);
      assert.ok(server.db.getBuild('newAAAAAAAAAAAAA'), 'a build that ended just now stays');
    } finally {
      await server.close();
    }
  });
});

