import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadCatalogs } from '../../src/catalog/load.js';
import { resolveSpec, type ResolvedSpec } from '../../src/config/resolve.js';
import { dirSources } from '../../src/config/sources.js';
import { resolveVmLayout, type VmLayout } from '../../src/disks/layout.js';
import { labManifestNetworks } from '../../src/lab/build-member.js';
import { loadLab } from '../../src/lab/load.js';
import { labTapName } from '../../src/lab/manifest.js';
import { labQemuFiles } from '../../src/lab/members/qemu-files.js';
import { renderLibvirtNetwork } from '../../src/lab/topology/qemu.js';
import type { Lab, LabMachine } from '../../src/lab/types.js';
import { targetFor } from '../../src/cli/shared.js';
import { assertGolden } from '../helpers/golden.js';

const EXAMPLE = new URL('../../examples/net101/', import.meta.url).pathname;
const LAB_DIR = '/var/lib/vmgen/labs/net101';
const catalogs = loadCatalogs({ env: {} });

/** A lab file of the example, loaded as `vmgen lab build -t TARGET` loads it. */
export function exampleLab(file: string, target: string): Lab {
  const r = loadLab(readFileSync(join(EXAMPLE, file), 'utf8'), { catalogs, target: targetFor(target)!, sources: dirSources(EXAMPLE), file });
  assert.ok(r.lab, `${file} loads for ${target}: ${JSON.stringify(r.diagnostics)}`);
  return r.lab;
}

export function machineSpec(machine: LabMachine, target: string): { spec: ResolvedSpec; layout: VmLayout } {
  const spec = resolveSpec(machine.config, catalogs, { target, defaultMirror: 'http://mirror.example/debian' });
  return { spec, layout: resolveVmLayout(machine.config, spec.os, spec.name) };
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd]).status === 0;
}

describe('qemu lab machines', () => {
  const lab = exampleLab('two-vm.conf', 'qemu');
  const networks = labManifestNetworks(lab);
  const files = lab.machines.map((machine) => {
    const { spec, layout } = machineSpec(machine, 'qemu');
    return { machine, out: labQemuFiles(spec, layout, { lab: lab.name, machine, networks, labDir: LAB_DIR }) };
  });

  it('match their golden domain XML and run.sh', () => {
    for (const { machine, out } of files) for (const f of out) assertGolden(`lab/qemu/machines/${machine.name}/${f.path}`, f.content);
  });

  it('attach every NIC to its lab network with the lab\'s MAC, and disks at LABDIR/machines/NAME', () => {
    const gw = files.find((f) => f.machine.name === 'gw')!;
    const xml = gw.out.find((f) => f.path === 'gw.xml')!.content;
    for (const nic of gw.machine.nics) {
      const net = networks.find((n) => n.name === nic.network)!;
      const block = new RegExp(`<interface type="network">\\s*<mac address="${nic.mac}"/>\\s*<source network="${net.libvirtNetwork}"/>`);
      assert.match(xml, block, `${nic.nic}: on ${net.libvirtNetwork} with ${nic.mac}`);
    }
    assert.match(xml, /<name>net101-gw<\/name>/, 'the domain is named after the lab and the machine');
    assert.match(xml, new RegExp(`<source file="${LAB_DIR}/machines/gw/[^"]+\\.qcow2"/>`), 'the disk is the member\'s qcow2 under LABDIR');
  });

  it('run.sh puts each NIC on a tap of its own on the network\'s bridge and removes the taps on exit', () => {
    const gw = files.find((f) => f.machine.name === 'gw')!;
    const sh = gw.out.find((f) => f.path === 'run.sh')!.content;
    for (const nic of gw.machine.nics) {
      const tap = labTapName(lab.name, 'gw', nic.nic);
      const bridge = networks.find((n) => n.name === nic.network)!.bridge;
      assert.ok(sh.includes(`-netdev tap,id=net${nic.nic.slice(3)},ifname=${tap},script=no,downscript=no`), `${nic.nic}: -netdev tap on ${tap}`);
      assert.ok(sh.includes(`ip link set ${tap} master ${bridge}`), `${tap} joins ${bridge}`);
      assert.ok(sh.includes(`mac=${nic.mac}`), `${nic.nic} keeps the lab's MAC ${nic.mac}`);
    }
    assert.match(sh, /trap 'for t in \$taps; do ip link del "\$t" 2>\/dev\/null \|\| true; done' EXIT/, 'the taps go whatever way QEMU ends');
    assert.doesNotMatch(sh, /^exec /m, 'no exec: the EXIT trap must run after QEMU');
    const r = spawnSync('bash', ['-n'], { input: sh, encoding: 'utf8' });
    assert.equal(r.status, 0, `bash -n run.sh: ${r.stderr}`);
  });

  it('tap names are interface names, distinct across machines and NICs', () => {
    const taps = lab.machines.flatMap((m) => m.nics.map((n) => labTapName(lab.name, m.name, n.nic)));
    assert.equal(new Set(taps).size, taps.length, `distinct taps: ${taps.join(' ')}`);
    for (const t of taps) assert.match(t, /^vt[0-9a-f]{8}$/, `${t} fits Linux's 15 characters`);
    assert.notEqual(labTapName('a', 'b', 'eth0'), labTapName('a', 'b', 'eth1'), 'the NIC is part of the name');
  });

  it('the domain XML and the network XML pass virt-xml-validate', (t) => {
    if (!has('virt-xml-validate') || !has('xmllint')) {
      t.skip('virt-xml-validate or xmllint is not installed');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-labvm-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const checks: Array<[string, string, string]> = [
      ...files.map(({ machine, out }): [string, string, string] => [`${machine.name}.xml`, out.find((f) => f.path.endsWith('.xml'))!.content, 'domain']),
      ...networks.map((n): [string, string, string] => [`net-${n.name}.xml`, renderLibvirtNetwork(n), 'network']),
    ];
    for (const [name, content, schema] of checks) {
      writeFileSync(join(dir, name), content);
      const r = spawnSync('virt-xml-validate', [join(dir, name), schema], { encoding: 'utf8' });
      assert.equal(r.status, 0, `virt-xml-validate ${name} ${schema}: ${r.stdout}${r.stderr}`);
    }
  });
});
