import { test } from 'node:test';
import assert from 'node:assert/strict';
import { everyItem } from '../helpers/assert-values.js';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerKey, type LayerKeyParts, type LayerKind } from '../../src/cache/key.js';
import type { PruneResult } from '../../src/cache/prune.js';
import { LayerCache, type LayerInfo } from '../../src/cache/store.js';
import { formatAge, formatBytes } from '../../src/cli/commands/cache.js';
import { assertNoStack, run } from '../helpers/cli.js';

const parts: LayerKeyParts = {
  distribution: 'debian', release: '12', suite: 'bookworm', arch: 'amd64',
  mirror: 'http://mirror.example/debian', packages: ['systemd'], variant: 'minbase', recipe: 1,
};

/** A cache with a fresh base layer and a packages layer last used 40 days ago. */
async function populated(): Promise<{ root: string; base: string; old: string }> {
  const root = await mkdtemp(join(tmpdir(), 'vmgen-cli-cache-'));
  const cache = new LayerCache(root);
  const fill = async (kind: LayerKind, packages: string[]): Promise<string> => {
    const p = { ...parts, packages };
    const key = layerKey(kind, p);
    await cache.fill(key, { kind, parts: p }, async (rootfs) => writeFileSync(join(rootfs, 'data'), Buffer.alloc(3000)));
    return key;
  };
  const base = await fill('base', ['systemd']);
  const old = await fill('packages', ['systemd', 'nginx', 'curl']);
  const longAgo = new Date(Date.now() - 40 * 24 * 60 * 60_000);
  utimesSync(join(root, 'layers', old, 'last-used'), longAgo, longAgo);
  return { root, base, old };
}

test('vmgen cache list --json lists layers, most recently used first', async () => {
  const { root, base, old } = await populated();
  const r = await run('vmgen', ['cache', 'list', '--json', '--cache-dir', root]);
  assert.equal(r.code, 0, r.stderr);
  const layers = JSON.parse(r.stdout) as LayerInfo[];
  assert.deepEqual(layers.map((l) => [l.key, l.kind, l.meta.parts.packages.length]), [[base, 'base', 1], [old, 'packages', 3]]);
  everyItem(layers, (l) => l.bytes >= 3000);
});

test('vmgen cache list prints a table', async () => {
  const { root, base, old } = await populated();
  const r = await run('vmgen', ['cache', 'list', '--cache-dir', root]);
  assert.equal(r.code, 0, r.stderr);
  const [header, ...rows] = r.stdout.trimEnd().split('\n');
  assert.match(header!, /^KEY\s+KIND\s+DISTRIBUTION\/RELEASE\s+PACKAGES\s+SIZE\s+LAST USED$/);
  assert.match(rows[0]!, new RegExp(`^${base}\\s+base\\s+debian/12\\s+1\\s+\\S+ KiB\\s+just now$`));
  assert.match(rows[1]!, new RegExp(`^${old}\\s+packages\\s+debian/12\\s+3\\s+\\S+ KiB\\s+40 days ago$`));
  const empty = await run('vmgen', ['cache', 'list', '--cache-dir', join(root, 'nothing-here')]);
  assert.equal(empty.code, 0);
  assert.match(empty.stdout, /^no cached layers in /);
});

test('vmgen cache prune --json removes layers unused for 30 days; --dry-run removes nothing', async () => {
  const { root, base, old } = await populated();
  const dry = await run('vmgen', ['cache', 'prune', '--dry-run', '--json', '--cache-dir', root]);
  assert.equal(dry.code, 0, dry.stderr);
  const planned = JSON.parse(dry.stdout) as PruneResult;
  assert.equal(planned.dryRun, true);
  assert.deepEqual(planned.removed.map((i) => [i.what, i.key]), [['layer', old]]);
  assert.equal(existsSync(join(root, 'layers', old)), true, `layer ${old} gone after a dry run`);

  const r = await run('vmgen', ['cache', 'prune', '--json', '--cache-dir', root]);
  assert.equal(r.code, 0, r.stderr);
  const done = JSON.parse(r.stdout) as PruneResult;
  assert.deepEqual({ ...done, dryRun: true }, planned);
  assert.ok(done.bytesFreed >= 3000, `${done.bytesFreed} bytes freed`);
  assert.equal(existsSync(join(root, 'layers', old)), false);
  assert.equal(existsSync(join(root, 'layers', base)), true, `layer ${base} pruned`);
});

test('vmgen cache prune --all also empties the .deb pool, and says what it freed', async () => {
  const { root } = await populated();
  mkdirSync(join(root, 'debs'), { recursive: true });
  writeFileSync(join(root, 'debs', 'curl.deb'), 'x');
  const r = await run('vmgen', ['cache', 'prune', '--all', '--cache-dir', root]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^removed layer base-/m);
  assert.match(r.stdout, /^removed \.deb pool /m);
  assert.match(r.stdout, /^freed \d/m);
  const again = await run('vmgen', ['cache', 'prune', '--older-than', '0', '--cache-dir', root]);
  assert.equal(again.stdout, 'nothing to remove\n');
});

test('bad prune options are usage errors (exit 2)', async () => {
  for (const args of [['--older-than', 'soon'], ['--older-than', '-1'], ['--all', '--older-than', '3']]) {
    const r = await run('vmgen', ['cache', 'prune', ...args, '--cache-dir', tmpdir()]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assertNoStack(r.stderr);
  }
});

test('vmgen cache path prints the cache root', async () => {
  const saved = process.env.VMGEN_CACHE_DIR;
  process.env.VMGEN_CACHE_DIR = '/srv/vmgen-cache';
  try {
    const r = await run('vmgen', ['cache', 'path']);
    assert.deepEqual([r.code, r.stdout], [0, '/srv/vmgen-cache\n']);
  } finally {
    if (saved === undefined) delete process.env.VMGEN_CACHE_DIR;
    else process.env.VMGEN_CACHE_DIR = saved;
  }
});

test('sizes and ages are short and human', () => {
  assert.deepEqual([0, 1023, 1536, 10 * 1024 * 1024, 3.5 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1.5 KiB', '10 MiB', '3.5 GiB']);
  assert.deepEqual([5_000, 5 * 60_000, 3 * 3600_000, 3 * 86400_000].map(formatAge), ['just now', '5 min ago', '3 h ago', '3 days ago']);
});
