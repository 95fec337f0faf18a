import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCatalogs } from '../../src/catalog/load.js';
import { dirSources } from '../../src/config/sources.js';
import { assembleLab } from '../../src/lab/assemble.js';
import { loadLab } from '../../src/lab/load.js';
import { parseLabManifest } from '../../src/lab/manifest.js';

const EXAMPLE = new URL('../../examples/net101/', import.meta.url).pathname;

/** A member file as buildLabMember writes it: member.json, machine/, and base/ when included. */
function fakeMember(dir: string, machine: string, base: { id: string; included: boolean; source: string }): string {
  const root = join(dir, `src-${machine}`);
  mkdirSync(join(root, 'machine', 'delta', 'etc'), { recursive: true });
  writeFileSync(join(root, 'machine', 'config'), `# ${machine}\n`);
  writeFileSync(join(root, 'machine', 'delta', 'etc', 'hostname'), `${machine}\n`);
  writeFileSync(join(root, 'member.json'), JSON.stringify({
    version: 1, lab: 'net101', target: 'lxc', machine, files: { config: 'config', delta: 'delta' },
    base: { id: base.id, layerKey: `key-${base.id}`, entries: ['rootfs'], included: base.included, source: base.source },
  }));
  const entries = ['member.json', 'machine'];
  if (base.included) {
    mkdirSync(join(root, 'base', 'rootfs', 'etc'), { recursive: true });
    writeFileSync(join(root, 'base', 'rootfs', 'etc', 'os-release'), `base ${base.id} from ${machine}\n`);
    entries.push('base');
  }
  const file = join(dir, `${machine}-lxc.member.tar`);
  const r = spawnSync('tar', ['-cf', file, '-C', root, ...entries]);
  assert.equal(r.status, 0, `tar: ${String(r.stderr)}`);
  return file;
}

test('assembleLab stores each base once, from a member file or from this host, and writes lab.json and the topology', async () => {
  const loaded = loadLab(readFileSync(join(EXAMPLE, 'lab.conf'), 'utf8'), { catalogs: loadCatalogs(), sources: dirSources(EXAMPLE), file: 'lab.conf' });
  assert.ok(loaded.lab, 'the example lab loads');
  const lab = loaded.lab;
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-assemble-'));
  // The web server's base is in "this host's cache" only.
  const cache = join(dir, 'cache', 'layers', 'key-web');
  mkdirSync(join(cache, 'rootfs', 'etc'), { recursive: true });
  writeFileSync(join(cache, 'rootfs', 'etc', 'os-release'), 'base web from the cache\n');
  const files = lab.machines.map((m) => fakeMember(dir, m.name, m.group === 'web'
    ? { id: 'web', included: false, source: cache }
    : { id: m.group, included: true, source: '/elsewhere' }));
  const out = join(dir, 'out');
  const archive = await assembleLab(lab, 'lxc', files, out, { labDir: '/var/lib/vmgen/labs/net101' });
  assert.equal(archive, join(out, 'net101-lxc.tar.zst'), 'the archive is named after the lab and the target');
  const list = spawnSync('tar', ['-tf', archive], { encoding: 'utf8' }).stdout.split('\n');
  const osRelease = list.filter((p) => p.endsWith('etc/os-release')).sort();
  assert.deepEqual(osRelease, ['bases/gw/rootfs/etc/os-release', 'bases/pc/rootfs/etc/os-release', 'bases/web/rootfs/etc/os-release'], 'one copy of each base');
  const pcBase = spawnSync('tar', ['-xOf', archive, 'bases/pc/rootfs/etc/os-release'], { encoding: 'utf8' }).stdout;
  assert.equal(pcBase, `base pc from ${lab.machines.find((m) => m.group === 'pc')!.name}\n`, 'the first member carrying a base provides it');
  assert.equal(spawnSync('tar', ['-xOf', archive, 'bases/web/rootfs/etc/os-release'], { encoding: 'utf8' }).stdout, 'base web from the cache\n', 'a base not in any member comes from the host');
  const manifest = parseLabManifest(spawnSync('tar', ['-xOf', archive, 'lab.json'], { encoding: 'utf8' }).stdout);
  assert.equal(manifest.machines.length, lab.machines.length, 'every machine in lab.json');
  for (const m of manifest.machines) {
    assert.ok(list.includes(`${m.config}`), `${m.config} is in the archive`);
    assert.ok(list.includes(`${m.dir}/delta/etc/hostname`), `${m.name}'s delta is in the archive`);
  }
  assert.ok(list.includes('topology/bridges.sh'), 'the topology is in the archive');
  assert.deepEqual(spawnSync('ls', ['-A', out], { encoding: 'utf8' }).stdout.trim().split('\n'), ['net101-lxc.tar.zst'], 'nothing but the archive is left in the output directory');
});

test('assembleLab refuses a member whose base is nowhere, and leaves nothing behind', async () => {
  const loaded = loadLab(readFileSync(join(EXAMPLE, 'lab.conf'), 'utf8'), { catalogs: loadCatalogs(), sources: dirSources(EXAMPLE), file: 'lab.conf' });
  assert.ok(loaded.lab, 'the example lab loads');
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-assemble-'));
  const files = loaded.lab.machines.map((m) => fakeMember(dir, m.name, { id: m.group, included: false, source: join(dir, 'missing') }));
  const out = join(dir, 'out');
  await assert.rejects(assembleLab(loaded.lab, 'lxc', files, out), /neither in a member file nor in this host's cache/, 'a missing base is an error');
  assert.equal(spawnSync('ls', ['-A', out], { encoding: 'utf8' }).stdout.trim(), '', 'no partial archive or staging left');
});
