import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pruneCache } from '../../src/cache/prune.js';
import { mountedUnder } from '../../src/exec/mounts.js';
import { deferred, layer, tempCache, writeHello } from './helpers.js';

const DAY_MS = 24 * 60 * 60_000;

test('prune removes old layers, leftovers and dead builds\' work dirs; --all also the .deb pool', async () => {
  const cache = await tempCache();
  const fresh = layer('base');
  const old = layer('packages', ['nginx']);
  const kept = layer('packages', ['apache2']);
  for (const l of [fresh, old, kept]) await cache.fill(l.key, l.meta, writeHello);
  const longAgo = new Date(Date.now() - 40 * DAY_MS);
  for (const l of [old, kept]) utimesSync(join(cache.layersDir, l.key, 'last-used'), longAgo, longAgo);
  mkdirSync(join(cache.layersDir, `.tmp-${fresh.key}-abcdef`, 'rootfs'), { recursive: true });
  mkdirSync(join(cache.layersDir, `.del-${old.key}-abcdef`), { recursive: true });
  const mine = await cache.newWorkDir('build');
  const dead = join(cache.workDir, 'build-dead');
  mkdirSync(dead, { recursive: true });
  writeFileSync(join(dead, 'owner'), `${spawnSync(process.execPath, ['-e', '']).pid}\n`);
  mkdirSync(cache.debsDir, { recursive: true });
  writeFileSync(join(cache.debsDir, 'nginx_1.22_amd64.deb'), Buffer.alloc(5000));
  const deadLock = join(cache.locksDir, `${old.key}.lock`);
  mkdirSync(deadLock, { recursive: true });
  utimesSync(deadLock, longAgo, longAgo);

  assert.deepEqual(await cache.staleWorkDirs(), [dead]);
  const dry = await pruneCache(cache, { dryRun: true, keep: [kept.key] });
  assert.equal(dry.dryRun, true);
  assert.equal(readdirSync(cache.layersDir).length, 5, 'a dry run removes nothing');
  const pruned = await pruneCache(cache, { keep: [kept.key] });
  assert.deepEqual(pruned.removed, dry.removed.map((item) => ({ ...item })));
  const summary = pruned.removed.map((r) => [r.what, r.key ?? r.path]).sort();
  assert.deepEqual(summary, [
    ['layer', old.key],
    ['partial', join(cache.layersDir, `.del-${old.key}-abcdef`)],
    ['partial', fresh.key],
    ['work', dead],
  ].sort());
  assert.equal(pruned.bytesFreed, pruned.removed.reduce((n, r) => n + r.bytes, 0));
  assert.deepEqual(readdirSync(cache.layersDir).sort(), [fresh.key, kept.key].sort());
  assert.ok(existsSync(mine), 'a live build\'s work dir stays');
  assert.deepEqual(readdirSync(cache.locksDir), [], 'a dead process\'s lock directory goes');
  assert.ok(existsSync(join(cache.debsDir, 'nginx_1.22_amd64.deb')), 'only --all empties the .deb pool');

  const recent = await pruneCache(cache, { olderThanDays: 0 });
  assert.deepEqual(recent.removed.map((r) => r.key).sort(), [fresh.key, kept.key].sort());

  const all = await pruneCache(cache, { all: true });
  assert.deepEqual(all.removed.map((r) => r.what), ['debs']);
  assert.ok(all.bytesFreed >= 5000, `${all.bytesFreed} bytes freed`);
  assert.deepEqual(readdirSync(cache.debsDir), []);
});

test('prune --all keeps a layer whose lock is held and the .deb pool while a fill runs', async () => {
  const cache = await tempCache();
  const done = layer('base');
  const busy = layer('packages', ['nginx']);
  await cache.fill(done.key, done.meta, writeHello);
  mkdirSync(cache.debsDir, { recursive: true });
  writeFileSync(join(cache.debsDir, 'a.deb'), 'x');
  const gate = deferred();
  const started = deferred();
  const filling = cache.fill(busy.key, busy.meta, async (rootfs) => {
    started.resolve();
    await gate.promise;
    await writeHello(rootfs);
  });
  await started.promise;
  const pruned = await pruneCache(cache, { all: true });
  assert.deepEqual(pruned.removed.map((r) => [r.what, r.key]), [['layer', done.key]]);
  assert.deepEqual(pruned.skipped.map((s) => [s.what, s.key]).sort(), [['debs', undefined], ['partial', busy.key]]);
  gate.resolve();
  assert.equal((await filling).filled, true);
  assert.deepEqual(readdirSync(cache.layersDir), [busy.key]);
});

test('prune unmounts what a killed build left mounted in its work dir, and never deletes through the mount', { skip: process.getuid?.() === 0 ? false : 'needs root (mount)' }, async () => {
  const cache = await tempCache();
  // Stands for the cached layer under a dead build's overlay: it must survive the prune.
  const lower = join(cache.root, 'lower');
  mkdirSync(lower, { recursive: true });
  writeFileSync(join(lower, 'precious'), 'x');
  const dead = join(cache.workDir, 'build-killed');
  const mnt = join(dead, 'stage', 'rootfs');
  mkdirSync(mnt, { recursive: true });
  writeFileSync(join(dead, 'owner'), `${spawnSync(process.execPath, ['-e', '']).pid}\n`);
  const bind = spawnSync('mount', ['--bind', lower, mnt], { encoding: 'utf8' });
  assert.equal(bind.status, 0, bind.stderr);
  try {
    const dry = await pruneCache(cache, { dryRun: true });
    assert.deepEqual(dry.removed.map((r) => r.path), [dead]);
    assert.deepEqual(await mountedUnder(dead), [mnt], 'a dry run unmounts nothing');
    const pruned = await pruneCache(cache);
    assert.deepEqual(pruned.removed.map((r) => [r.what, r.path]), [['work', dead]]);
    assert.deepEqual(await mountedUnder(dead), [], 'nothing left mounted');
    assert.equal(existsSync(dead), false, 'the work dir is gone');
    assert.deepEqual(readdirSync(lower), ['precious'], 'what the mount showed is untouched');
  } finally {
    if ((await mountedUnder(mnt)).length > 0) spawnSync('umount', ['--lazy', mnt]);
  }
});
