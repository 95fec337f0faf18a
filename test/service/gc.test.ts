import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DirArtifactStore } from '../../src/service/artifacts/index.js';
import { ServiceDb } from '../../src/service/db.js';
import { collectArtifacts, collectBuilds, sweepArtifactDir } from '../../src/service/gc.js';
import { listTree } from '../integration/helpers.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00.000Z');

/** A job table and a directory store holding one artifact per entry, finished `ageMs` before NOW. */
async function setup(entries: Array<{ id: string; ageMs: number; bytes: number }>) {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-gc-'));
  dirs.push(dir);
  const db = ServiceDb.memory();
  const store = new DirArtifactStore(join(dir, 'artifacts'));
  for (const e of entries) {
    db.insertBuild({ id: e.id, owner: 'alice', target: 'lxc', format: 'tar', name: 'web1', config: '', created: new Date(NOW - e.ageMs - 1000).toISOString() });
    const file = join(dir, `${e.id}.out`);
    writeFileSync(file, Buffer.alloc(e.bytes, 1));
    const key = `${e.id}/web1-lxc.tar`;
    const { sha256 } = await store.put(key, file);
    db.applyUpdate({ id: e.id, state: 'succeeded', finished: new Date(NOW - e.ageMs).toISOString(), artifact: { key, name: 'web1-lxc.tar', bytes: e.bytes, sha256 } });
  }
  return { dir, db, store };
}

const id = (n: number): string => `build${String(n).padStart(11, '0')}`;

describe('artifact garbage collection', () => {
  it('deletes artifacts over the age limit, file and row, and keeps the build', async () => {
    const { db, store } = await setup([
      { id: id(1), ageMs: 10 * DAY, bytes: 100 },
      { id: id(2), ageMs: 8 * DAY, bytes: 100 },
      { id: id(3), ageMs: 1 * DAY, bytes: 100 },
    ]);
    const r = await collectArtifacts(db, store, { maxAgeMs: 7 * DAY }, { now: NOW });
    assert.deepEqual(r.removed.map((x) => [x.id, x.reason]), [[id(1), 'age'], [id(2), 'age']]);
    assert.equal(r.keptBytes, 100);
    for (const n of [1, 2]) {
      assert.equal(await store.stat(`${id(n)}/web1-lxc.tar`), undefined);
      assert.equal(db.getBuild(id(n))!.artifact, null);
      assert.equal(db.getBuild(id(n))!.state, 'succeeded');
    }
    assert.ok(await store.stat(`${id(3)}/web1-lxc.tar`), `${id(3)}/web1-lxc.tar is kept`);
  });

  it('deletes the oldest until the rest fit the space limit', async () => {
    const { db, store } = await setup([
      { id: id(1), ageMs: 5 * DAY, bytes: 300 },
      { id: id(2), ageMs: 4 * DAY, bytes: 300 },
      { id: id(3), ageMs: 3 * DAY, bytes: 300 },
      { id: id(4), ageMs: 2 * DAY, bytes: 300 },
    ]);
    const r = await collectArtifacts(db, store, { maxTotalBytes: 700 }, { now: NOW });
    assert.deepEqual(r.removed.map((x) => [x.id, x.reason]), [[id(1), 'space'], [id(2), 'space']]);
    assert.equal(r.keptBytes, 600);
    assert.deepEqual(db.artifacts().map((a) => a.id), [id(3), id(4)]);
    // Within the limits: nothing more goes.
    assert.deepEqual((await collectArtifacts(db, store, { maxTotalBytes: 700, maxAgeMs: 30 * DAY }, { now: NOW })).removed, []);
  });

  it('both limits together; no limits delete nothing', async () => {
    const { db, store } = await setup([
      { id: id(1), ageMs: 9 * DAY, bytes: 10 },
      { id: id(2), ageMs: 3 * DAY, bytes: 500 },
      { id: id(3), ageMs: 2 * DAY, bytes: 500 },
    ]);
    assert.deepEqual((await collectArtifacts(db, store, {}, { now: NOW })).removed, []);
    const r = await collectArtifacts(db, store, { maxAgeMs: 7 * DAY, maxTotalBytes: 600 }, { now: NOW });
    assert.deepEqual(r.removed.map((x) => [x.id, x.reason]), [[id(1), 'age'], [id(2), 'space']]);
  });

  it('an artifact the store cannot delete stays listed, to be tried again', async () => {
    const { db, store } = await setup([{ id: id(1), ageMs: 9 * DAY, bytes: 10 }]);
    store.delete = async () => {
      throw new Error('read-only file system');
    };
    const r = await collectArtifacts(db, store, { maxAgeMs: DAY }, { now: NOW });
    assert.deepEqual(r.removed, []);
    assert.deepEqual(r.failed.map((f) => f.id), [id(1)]);
    assert.notEqual(db.getBuild(id(1))!.artifact, null, 'the artifact whose removal failed stays recorded');
  });
});

describe('start-up sweep of a directory store', () => {
  it('removes temp files and artifacts no build refers to, and nothing else', async () => {
    const { dir, db, store } = await setup([{ id: id(1), ageMs: DAY, bytes: 10 }]);
    const root = store.dir;
    // Debris of a killed server: a half-put temp, an artifact stored but never recorded.
    mkdirSync(join(root, '.incoming'), { recursive: true });
    writeFileSync(join(root, '.incoming', 'abc.part'), 'half');
    mkdirSync(join(root, id(2)));
    writeFileSync(join(root, id(2), 'web2-lxc.tar'), 'never recorded');
    // A recorded build with an extra file beside its artifact, and an unrecorded artifact kept as parts.
    writeFileSync(join(root, id(1), 'stray.tar'), 'x');
    mkdirSync(join(root, id(1), 'parts-lxc.tar.zst'));
    writeFileSync(join(root, id(1), 'parts-lxc.tar.zst', '0'), 'layer');
    writeFileSync(join(root, id(1), 'parts-lxc.tar.zst', '1'), 'build');
    // A directory that is no artifact of ours: left alone.
    mkdirSync(join(root, id(1), 'other'));
    writeFileSync(join(root, id(1), 'other', 'x'), 'mine');
    // A queued build's folder is left alone (a queue worker may be storing it).
    db.insertBuild({ id: id(3), owner: 'bob', target: 'lxc', format: 'tar', name: 'w', config: '', created: new Date().toISOString() });
    mkdirSync(join(root, id(3)));
    writeFileSync(join(root, id(3), 'w-lxc.tar'), 'being stored');
    // Names vmgen never makes: someone else's files in a shared directory.
    mkdirSync(join(root, 'notes'));
    writeFileSync(join(root, 'notes', 'keep.txt'), 'mine');
    writeFileSync(join(root, 'README'), 'mine');
    writeFileSync(join(root, '.incoming', 'keep.txt'), 'not a temp of ours');

    const removed = await sweepArtifactDir(db, root);
    assert.deepEqual(removed.sort(), ['.incoming/abc.part', `${id(1)}/parts-lxc.tar.zst`, `${id(1)}/stray.tar`, `${id(2)}/web2-lxc.tar`].sort());
    assert.deepEqual(listTree(root).sort(), [
      '.incoming', '.incoming/keep.txt', 'README', id(1), `${id(1)}/web1-lxc.tar`, `${id(1)}/other`, `${id(1)}/other/x`, id(3), `${id(3)}/w-lxc.tar`, 'notes', 'notes/keep.txt',
    ].sort());
    assert.equal(existsSync(join(root, id(2))), false, 'an emptied build folder goes too');
    assert.ok(dir, 'the artifact directory exists');
  });

  it('a missing store directory is nothing to sweep', async () => {
    const db = ServiceDb.memory();
    assert.deepEqual(await sweepArtifactDir(db, join(tmpdir(), 'vmgen-no-such-dir-xyz')), []);
  });
});

describe('build garbage collection (--keep-builds)', () => {
  it('deletes builds that ended before the limit, with artifact, config and log; keeps newer and unfinished ones', async () => {
    const { db, store } = await setup([
      { id: id(1), ageMs: 40 * DAY, bytes: 10 },
      { id: id(2), ageMs: 20 * DAY, bytes: 10 },
    ]);
    db.insertBuild({ id: id(3), owner: 'alice', target: 'lxc', format: 'tar', name: 'web1', config: 'root_passwd = x', created: new Date(NOW - 50 * DAY).toISOString() });
    db.applyUpdate({ id: id(3), state: 'failed', finished: new Date(NOW - 45 * DAY).toISOString(), log: ['a line'] });
    db.insertBuild({ id: id(4), owner: 'alice', target: 'lxc', format: 'tar', name: 'web1', config: '', created: new Date(NOW - 60 * DAY).toISOString() });
    db.applyUpdate({ id: id(4), state: 'running' });
    const r = await collectBuilds(db, store, { maxAgeMs: 30 * DAY }, { now: NOW });
    assert.deepEqual(r.removed.sort(), [id(1), id(3)]);
    assert.equal(db.getBuild(id(1)), undefined);
    assert.equal(db.getBuild(id(3)), undefined);
    assert.deepEqual(db.logLines(id(3)), [], 'its log went with it');
    assert.equal(await store.stat(`${id(1)}/web1-lxc.tar`), undefined, 'its artifact went first');
    assert.ok(db.getBuild(id(2)), 'a build that ended 20 days ago stays');
    assert.equal(db.getBuild(id(4))?.state, 'running', 'a build still running stays, however old');
    assert.deepEqual((await collectBuilds(db, store, {}, { now: NOW + 1000 * DAY })).removed, [], 'no limit, nothing deleted');
  });

  it('keeps a build whose artifact the store will not delete, and tries again next time', async () => {
    const { db, store } = await setup([{ id: id(1), ageMs: 40 * DAY, bytes: 10 }]);
    const refusing = { ...store, open: store.open.bind(store), put: store.put.bind(store), stat: store.stat.bind(store), delete: async () => { throw new Error('read-only'); } };
    const r = await collectBuilds(db, refusing, { maxAgeMs: DAY }, { now: NOW });
    assert.deepEqual(r, { removed: [], failed: [id(1)] });
    assert.ok(db.getBuild(id(1)), 'the build stays while its artifact does');
    assert.deepEqual((await collectBuilds(db, store, { maxAgeMs: DAY }, { now: NOW })).removed, [id(1)]);
  });
});
