import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCatalogs } from '../../src/catalog/load.js';
import { dirSources } from '../../src/config/sources.js';
import { labManifestNetworks } from '../../src/lab/build-member.js';
import { loadLab } from '../../src/lab/load.js';
import { labManifest } from '../../src/lab/assemble.js';
import { labManifestSchema } from '../../src/lab/manifest.js';
import { LAB_TOPOLOGY } from '../../src/lab/topology/registry.js';
import { renderLibvirtNetwork } from '../../src/lab/topology/qemu.js';
import type { Lab } from '../../src/lab/types.js';
import { assertGolden } from '../helpers/golden.js';

const EXAMPLE = new URL('../../examples/net101/', import.meta.url).pathname;

function net101(): Lab {
  const r = loadLab(readFileSync(join(EXAMPLE, 'lab.conf'), 'utf8'), { catalogs: loadCatalogs(), sources: dirSources(EXAMPLE), file: 'lab.conf' });
  assert.ok(r.lab, `the example lab loads: ${JSON.stringify(r.diagnostics)}`);
  return r.lab;
}

test('every lab target has a topology renderer, and each one matches its golden files', () => {
  const lab = net101();
  const networks = labManifestNetworks(lab);
  for (const [target, render] of Object.entries(LAB_TOPOLOGY)) {
    const files = render(lab, networks);
    assert.ok(files.length > 0, `${target}: some topology file`);
    for (const f of files) assertGolden(`lab/${target}/${f.path}`, f.content);
  }
});

test('bridge names are unique per lab and network, at most 15 characters', () => {
  const networks = labManifestNetworks(net101());
  const bridges = networks.map((n) => n.bridge);
  assert.equal(new Set(bridges).size, bridges.length, `distinct bridges: ${bridges.join(' ')}`);
  for (const b of bridges) assert.ok(b.length <= 15 && /^vl[0-9a-f]+$/.test(b), `bridge ${b} is a safe interface name`);
});

test('the manifest of the example lab validates against LabManifest and matches its golden file', () => {
  const lab = net101();
  const members = lab.machines.map((m) => ({
    version: 1 as const, lab: lab.name, target: 'lxc', machine: m.name, files: { config: 'config', fstab: 'fstab', delta: 'delta' },
    base: { id: `base-${m.group}`, layerKey: `layer-${m.group}`, entries: ['rootfs'], included: false, source: '/cache/layers/x' },
  }));
  const manifest = labManifest(lab, 'lxc', 'tar.zst', members, { labDir: '/var/lib/vmgen/labs/net101' });
  labManifestSchema.parse(manifest);
  assert.deepEqual(manifest.bases.map((b) => b.id), ['base-gw', 'base-web', 'base-pc'], 'one base per package set, in order of first use');
  const last = lab.machines.at(-1)!.name;
  assert.equal(manifest.machines.find((m) => m.name === last)?.files.delta, `machines/${last}/delta`, 'paths are relative to the archive');
  assertGolden('lab/lxc/lab.json', `${JSON.stringify(manifest, null, 2)}\n`);
});

test('the libvirt network XML passes virt-xml-validate', (t) => {
  const has = (cmd: string): boolean => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd]).status === 0;
  if (!has('virt-xml-validate') || !has('xmllint')) {
    t.skip('virt-xml-validate or xmllint is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-labnet-'));
  for (const net of labManifestNetworks(net101())) {
    const file = join(dir, `${net.name}.xml`);
    writeFileSync(file, renderLibvirtNetwork(net));
    const r = spawnSync('virt-xml-validate', [file, 'network'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `virt-xml-validate ${net.name}: ${r.stdout}${r.stderr}`);
  }
});
