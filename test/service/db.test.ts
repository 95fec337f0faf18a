import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createToken, hashToken } from '../../src/service/auth.js';
import { MAX_LOG_LINES, ServiceDb } from '../../src/service/db.js';
import { VmgenError } from '../../src/errors.js';
import type { RunCommand } from '../../src/targets/types.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vmgen-db-'));
  dirs.push(d);
  return d;
}

function newBuild(db: ServiceDb, id: string, owner = 'alice', created = new Date().toISOString()) {
  return db.insertBuild({ id, owner, target: 'lxc', format: 'tar.zst', name: 'web1', config: '[hardware]\n', created });
}

describe('service database', () => {
  it('creates its file in WAL mode in a private data directory and migrates once', () => {
    const data = join(tempDir(), 'data');
    const db = ServiceDb.open(data);
    assert.equal(db.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.schemaVersion(), 7);
    assert.equal(statSync(data).mode & 0o777, 0o700);
    createToken(db, 'alice', false);
    // They hold a signing key: the database and its -wal and -shm files are the owner's only.
    assert.deepEqual(readdirSync(data).sort(), ['service.db', 'service.db-shm', 'service.db-wal']);
    for (const f of readdirSync(data)) assert.equal(statSync(join(data, f)).mode & 0o777, 0o600, f);
    db.close();
    // Reopening runs no migration twice and keeps the data.
    const again = ServiceDb.open(data);
    assert.equal(again.schemaVersion(), 7);
    assert.deepEqual(again.listUsers().map((u) => u.name), ['alice']);
    const raw = new Database(join(data, 'service.db'));
    assert.deepEqual((raw.prepare('SELECT version FROM migrations').all() as Array<{ version: number }>).map((r) => r.version), [1, 2, 3, 4, 5, 6, 7]);
    raw.close();
    again.close();
  });

  it('migrating to user ids gives each existing build the id of the user its owner names', () => {
    const data = join(tempDir(), 'data');
    const db = ServiceDb.open(data);
    createToken(db, 'alice', false);
    db.close();
    // Back to version 2: no user ids, no owner ids.
    const raw = new Database(join(data, 'service.db'));
    raw.exec(`ALTER TABLE builds DROP COLUMN run; DROP TABLE labs; DROP TABLE lab_machines; DROP TABLE lab_files; DROP INDEX builds_lab; ALTER TABLE builds DROP COLUMN lab; DROP TABLE build_files; ALTER TABLE builds DROP COLUMN steps; DROP INDEX users_id; DROP INDEX builds_owner_id; ALTER TABLE users DROP COLUMN id; ALTER TABLE builds DROP COLUMN owner_id;
      DELETE FROM migrations WHERE version >= 3;
      INSERT INTO builds (id, owner, state, target, format, name, config, created) VALUES
        ('b1', 'alice', 'succeeded', 'lxc', 'tar.zst', 'web1', '', '2026-01-01'), ('b2', 'gone', 'failed', 'lxc', 'tar.zst', 'web1', '', '2026-01-01');`);
    raw.close();
    const again = ServiceDb.open(data);
    assert.equal(again.schemaVersion(), 7);
    const alice = (again.db.prepare("SELECT id FROM users WHERE name = 'alice'").get() as { id: string }).id;
    assert.match(alice, /^[0-9a-f]{24}$/);
    assert.equal(again.getBuild('b1')!.ownerId, alice);
    assert.equal(again.getBuild('b2')!.ownerId, null, "a revoked user's build is nobody's");
    again.close();
  });

  it('refuses a database from a newer vmgen', () => {
    const data = tempDir();
    ServiceDb.open(data).close();
    const raw = new Database(join(data, 'service.db'));
    raw.prepare('INSERT INTO migrations (version, applied) VALUES (99, ?)').run(new Date().toISOString());
    raw.close();
    assert.throws(() => ServiceDb.open(data), (e: unknown) => e instanceof VmgenError && /newer/.test(e.message));
  });

  it('stores only the SHA-256 of tokens', () => {
    const data = tempDir();
    const db = ServiceDb.open(data);
    const { token } = createToken(db, 'alice', false);
    db.db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    for (const f of readdirSync(data)) {
      const bytes = readFileSync(join(data, f));
      assert.equal(bytes.includes(token), false, `${f} holds the token in clear`);
    }
    const raw = new Database(join(data, 'service.db'));
    assert.deepEqual(raw.prepare('SELECT hash FROM tokens').all(), [{ hash: hashToken(token) }]);
    raw.close();
  });

  it('users: several tokens each, a role that does not change silently, revoke removes all tokens', () => {
    const db = ServiceDb.memory();
    const a1 = createToken(db, 'alice', false);
    const a2 = createToken(db, 'alice', false);
    assert.equal(a1.created, true);
    assert.equal(a2.created, false);
    const { id, ...user } = db.userForTokenHash(hashToken(a2.token))!;
    assert.deepEqual(user, { name: 'alice', admin: false });
    assert.match(id, /^[0-9a-f]{24}$/);
    assert.throws(() => createToken(db, 'alice', true), /exists and is not an admin/);
    assert.throws(() => createToken(db, '../etc', false), /bad user name/);
    assert.throws(() => createToken(db, '', false), /bad user name/);
    createToken(db, 'root', true);
    assert.deepEqual(db.listUsers().map((u) => [u.name, u.admin, u.tokens]), [['alice', false, 2], ['root', true, 1]]);
    assert.equal(db.revokeUser('alice'), true);
    assert.equal(db.userForTokenHash(hashToken(a1.token)), undefined);
    assert.equal(db.userForTokenHash(hashToken(a2.token)), undefined);
    assert.equal(db.revokeUser('alice'), false);
  });

  it('records when a token was last used', () => {
    const db = ServiceDb.memory();
    const { token } = createToken(db, 'alice', false);
    assert.equal(db.listUsers()[0]!.lastUsed, null);
    db.userForTokenHash(hashToken(token));
    assert.match(db.listUsers()[0]!.lastUsed ?? '', /^\d{4}-/);
  });

  it('applies updates; a build that ended keeps its state whatever comes later', () => {
    const db = ServiceDb.memory();
    newBuild(db, 'b1');
    const running = db.applyUpdate({ id: 'b1', state: 'running', worker: 'w1', step: 'configure', progress: 0.4 })!;
    assert.equal(running.build.state, 'running');
    assert.match(running.build.started ?? '', /^\d{4}-/, 'started is filled in when the executor leaves it out');
    assert.equal(running.finished, false);
    const done = db.applyUpdate({ id: 'b1', state: 'failed', error: 'boom', errorCode: 'VMG_BUILD' })!;
    assert.equal(done.finished, true);
    assert.match(done.build.finished ?? '', /^\d{4}-/);
    const late = db.applyUpdate({ id: 'b1', state: 'running', progress: 0.9, log: ['late line'] })!;
    assert.equal(late.build.state, 'failed');
    assert.equal(late.build.progress, 0.4);
    assert.equal(late.finished, false);
    assert.deepEqual(db.logLines('b1').map((l) => l.line), ['late line'], 'log lines are kept in any state');
    assert.equal(db.applyUpdate({ id: 'nope', state: 'running' }), undefined);
  });

  it('an artifact reported for a build that already ended is handed back as an orphan, not recorded', () => {
    const db = ServiceDb.memory();
    newBuild(db, 'b1');
    db.finish('b1', 'canceled');
    const r = db.applyUpdate({ id: 'b1', state: 'succeeded', artifact: { key: 'b1/x.tar', name: 'x.tar', bytes: 3, sha256: 'ab' } })!;
    assert.equal(r.build.state, 'canceled');
    assert.equal(r.build.artifact, null);
    assert.deepEqual(r.orphanArtifact, { key: 'b1/x.tar', name: 'x.tar', bytes: 3, sha256: 'ab' });
  });

  it('clamps progress to 0..1', () => {
    const db = ServiceDb.memory();
    newBuild(db, 'b1');
    assert.equal(db.applyUpdate({ id: 'b1', progress: 7 })!.build.progress, 1);
    assert.equal(db.applyUpdate({ id: 'b1', progress: -1 })!.build.progress, 0);
  });

  it('log lines get increasing sequence numbers, and the log stops growing at its cap', () => {
    const db = ServiceDb.memory();
    newBuild(db, 'b1');
    newBuild(db, 'b2');
    const first = db.applyUpdate({ id: 'b1', log: ['a', 'b'] })!.log;
    db.applyUpdate({ id: 'b2', log: ['other'] });
    const second = db.applyUpdate({ id: 'b1', log: ['c'] })!.log;
    assert.deepEqual(first.map((l) => l.line), ['a', 'b']);
    const seqs = [first[0]!.seq, first[1]!.seq, second[0]!.seq];
    assert.ok(seqs[0]! < seqs[1]! && seqs[1]! < seqs[2]!, `sequence numbers ${seqs.join(' ')} do not increase`);
    assert.deepEqual(db.logLines('b1', first[0]!.seq).map((l) => l.line), ['b', 'c']);
    db.applyUpdate({ id: 'b1', log: Array.from({ length: MAX_LOG_LINES }, (_, i) => `line ${i}`) });
    const lines = db.logLines('b1');
    assert.equal(lines.length, MAX_LOG_LINES + 1);
    assert.match(lines.at(-1)!.line, /log truncated/);
    assert.deepEqual(db.applyUpdate({ id: 'b1', log: ['more'] })!.log, []);
    assert.equal(db.logLines('b1').length, MAX_LOG_LINES + 1);
  });

  it('lists newest first per owner, counts by state, orders artifacts by when builds finished', () => {
    const db = ServiceDb.memory();
    const idOf = (name: string, admin = false): string => {
      const token = createToken(db, name, admin).token;
      return db.userForTokenHash(hashToken(token))!.id;
    };
    const alice = idOf('alice');
    const bob = idOf('bob');
    newBuild(db, 'b1', 'alice', '2026-01-01T00:00:01.000Z');
    newBuild(db, 'b2', 'bob', '2026-01-01T00:00:02.000Z');
    newBuild(db, 'b3', 'alice', '2026-01-01T00:00:03.000Z');
    assert.equal(db.getBuild('b1')!.ownerId, alice, 'a build belongs to the id of the user its owner names');
    assert.deepEqual(db.listBuilds({ ownerId: alice }).map((b) => b.id), ['b3', 'b1']);
    assert.deepEqual(db.listBuilds().map((b) => b.id), ['b3', 'b2', 'b1']);
    assert.deepEqual(db.listBuilds({ limit: 1 }).map((b) => b.id), ['b3']);
    assert.deepEqual(db.buildsInState('queued').map((b) => b.id), ['b1', 'b2', 'b3']);
    db.applyUpdate({ id: 'b3', state: 'succeeded', finished: '2026-01-02T00:00:00.000Z', artifact: { key: 'b3/a', name: 'a', bytes: 1, sha256: 'x' } });
    db.applyUpdate({ id: 'b1', state: 'succeeded', finished: '2026-01-03T00:00:00.000Z', artifact: { key: 'b1/a', name: 'a', bytes: 1, sha256: 'y' } });
    assert.deepEqual(db.countsByState(), { queued: 1, running: 0, succeeded: 2, failed: 0, canceled: 0 });
    assert.equal(db.countInState(alice, 'queued'), 0);
    assert.equal(db.countInState(bob, 'queued'), 1);
    assert.deepEqual(db.artifacts().map((a) => a.id), ['b3', 'b1']);
    assert.equal(db.hasArtifactKey('b1/a'), true);
    db.clearArtifact('b1');
    assert.equal(db.hasArtifactKey('b1/a'), false);
    db.deleteBuild('b3');
    assert.equal(db.getBuild('b3'), undefined);
  });

  it('a row carries every column of the builds table, each under its camelCase name', () => {
    const db = ServiceDb.memory();
    newBuild(db, 'b1');
    db.applyUpdate({
      id: 'b1', state: 'failed', step: 'configure', progress: 0.5, started: '2026-01-01T00:00:00.000Z', finished: '2026-01-01T00:01:00.000Z',
      error: 'boom', errorCode: 'VMG_BUILD', worker: 'w1', log: ['one'],
    });
    const row = db.getBuild('b1')!;
    assert.deepEqual({ ...row, created: 'x' }, {
      id: 'b1', owner: 'alice', ownerId: null, state: 'failed', target: 'lxc', format: 'tar.zst', name: 'web1', config: '[hardware]\n', step: 'configure',
      progress: 0.5, created: 'x', started: '2026-01-01T00:00:00.000Z', finished: '2026-01-01T00:01:00.000Z', error: 'boom',
      errorCode: 'VMG_BUILD', worker: 'w1', artifact: null, logLines: 1, steps: [], lab: null, run: [],
    });
    // Whatever a migration adds shows up in the row: the mapping goes by the table's own columns.
    const columns = (db.db.prepare('PRAGMA table_info(builds)').all() as Array<{ name: string }>).map((c) => c.name);
    const fields = columns.filter((c) => !c.startsWith('artifact_')).map((c) => c.replace(/_([a-z])/g, (_m, l: string) => l.toUpperCase()));
    assert.deepEqual(Object.keys(row).sort(), [...fields, 'artifact'].sort());
    db.applyUpdate({ id: 'b1', state: 'succeeded' });
    db.insertBuild({ id: 'b3', owner: 'alice', target: 'lxc', format: 'tar.zst', name: 'web1', config: '', created: 'x', steps: ['check host tools', 'publish'] });
    assert.deepEqual(db.getBuild('b3')!.steps, ['check host tools', 'publish'], 'the step names come back as they went in');
    const run: RunCommand[] = [{ what: 'start it', argv: ['lxc-start', '-n', 'web1', '-P', '/var/lib/lxc'] }];
    db.insertBuild({ id: 'b4', owner: 'alice', target: 'lxc', format: 'tar.zst', name: 'web1', config: '', created: 'x', run });
    assert.deepEqual(db.getBuild('b4')!.run, run, 'the run commands come back as they went in');
    newBuild(db, 'b2');
    db.applyUpdate({ id: 'b2', state: 'succeeded', artifact: { key: 'b2/a.tar', name: 'a.tar', bytes: 7, sha256: 'ab' } });
    assert.deepEqual(db.getBuild('b2')!.artifact, { key: 'b2/a.tar', name: 'a.tar', bytes: 7, sha256: 'ab' });
  });

  it('makes each secret once, from random bytes, and keeps it across opens', () => {
    const data = tempDir();
    const db = ServiceDb.open(data);
    const key = db.secret('download-links');
    assert.equal(key.length, 32);
    assert.equal(db.secret('download-links').equals(key), true, 'asked again: the same key');
    assert.equal(db.secret('other').equals(key), false, 'another name: another key');
    // A second process on the same file (vmgen token while the server runs) reads the same key.
    const second = ServiceDb.open(data);
    assert.equal(second.secret('download-links').equals(key), true, 'the same key in another handle');
    second.close();
    db.close();
    const again = ServiceDb.open(data);
    assert.equal(again.secret('download-links').equals(key), true, 'the same key after a restart');
    again.close();
    const other = ServiceDb.memory();
    assert.equal(other.secret('download-links').equals(key), false, 'another database: another key');
    other.close();
  });
});

