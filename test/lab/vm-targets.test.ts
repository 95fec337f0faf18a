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
import { labOvf } from '../../src/lab/members/virtualbox.js';
import { labVmx } from '../../src/lab/members/vmware.js';
import { LAB_MACS, labMac } from '../../src/lab/machine.js';
import { labSegmentId } from '../../src/lab/topology/vmware.js';
import { PVN_ID, VMX_KEYS_DOCUMENTED } from '../../src/targets/vmware/render.js';
import { isVmwareStaticMac } from '../../src/config/validators.js';
import { VMWARE_STATIC_MACS } from '../../src/targets/vmware/index.js';
import { renderLibvirtNetwork } from '../../src/lab/topology/qemu.js';
import { vmwareTopology } from '../../src/lab/topology/vmware.js';
import type { Lab, LabMachine } from '../../src/lab/types.js';
import { targetFor } from '../../src/cli/shared.js';
import { renderedLabFiles } from '../../src/cli/commands/lab-render.js';
import { LAB_TOPOLOGY } from '../../src/lab/topology/registry.js';
import { run as runCli } from '../helpers/cli.js';
import { assertGolden } from '../helpers/golden.js';

const EXAMPLE = new URL('../../examples/net101/', import.meta.url).pathname;
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
  const LAB_DIR = `/var/lib/vmgen/labs/${lab.name}`;
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
    assert.ok(xml.includes(`<name>${lab.name}-gw</name>`), 'the domain is named after the lab and the machine');
    assert.match(xml, new RegExp(`<source file="${LAB_DIR}/machines/gw/[^"]+\\.qcow2"/>`), 'the disk is the member\'s qcow2 under LABDIR');
  });

  it('run.sh puts each NIC on a tap of its own on the network\'s bridge and removes the taps on exit', () => {
    const gw = files.find((f) => f.machine.name === 'gw')!;
    const sh = gw.out.find((f) => f.path === 'run.sh')!.content;
    for (const [i, nic] of gw.machine.nics.entries()) {
      const tap = labTapName(lab.name, 'gw', nic.nic);
      const bridge = networks.find((n) => n.name === nic.network)!.bridge;
      assert.ok(sh.includes(`-netdev tap,id=net${i},ifname=${tap},script=no,downscript=no`), `${nic.nic}: -netdev tap on ${tap}`);
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

describe('lab MACs per target', () => {
  it('are QEMU\'s locally administered 52:54:00 by default and VMware\'s static range for vmware', () => {
    const taken = new Set<string>();
    assert.match(labMac('net101', 'gw', 'eth0', taken), /^52:54:00(:[0-9a-f]{2}){3}$/, 'QEMU prefix without a target range');
    for (let i = 0; i < 200; i++) {
      const mac = labMac('net101', `pc${i}`, 'eth0', taken, VMWARE_STATIC_MACS);
      const r = isVmwareStaticMac(mac);
      assert.ok(r.ok, `${mac} is one VMware keeps: ${r.ok ? '' : r.message}`);
    }
  });

  it('keep the hash\'s last bytes, so only the prefix and the fourth byte\'s range change with the target', () => {
    const qemu = labMac('net101', 'gw', 'eth0', new Set(), LAB_MACS).split(':');
    const vmware = labMac('net101', 'gw', 'eth0', new Set(), VMWARE_STATIC_MACS).split(':');
    assert.deepEqual(vmware.slice(4), qemu.slice(4), `same tail: ${qemu.join(':')} / ${vmware.join(':')}`);
    assert.equal(parseInt(vmware[3]!, 16), parseInt(qemu[3]!, 16) % 0x40, 'the fourth byte folded into 00-3f');
  });

  it('a lab loaded for vmware validates (its MACs are in the static range) and one loaded for qemu keeps 52:54:00', () => {
    for (const m of exampleLab('two-vm.conf', 'vmware').machines) for (const n of m.nics) assert.match(n.mac, /^00:50:56:[0-3]/, `${m.name}.${n.nic} ${n.mac}`);
    for (const m of exampleLab('two-vm.conf', 'qemu').machines) for (const n of m.nics) assert.match(n.mac, /^52:54:00:/, `${m.name}.${n.nic} ${n.mac}`);
  });
});

describe('VMware LAN segment ids (pvnID)', () => {
  it('have the form Workstation writes: sixteen hex bytes, eight and eight joined by a dash, leading 52', () => {
    // Workstation's own, from a preferences.ini and the .vmx of a NIC on that segment:
    // pref.namedPVNs0.pvnID = "52 8c 98 ed 46 f0 ae 00-28 76 d2 99 3a 4d 1c 60".
    assert.match('52 8c 98 ed 46 f0 ae 00-28 76 d2 99 3a 4d 1c 60', PVN_ID, 'PVN_ID accepts a Workstation-written id');
    assert.doesNotMatch('52 a1 b2 c3-d4 e5 f6 07', PVN_ID, 'eight bytes are not a pvnID');
    const id = labSegmentId('net101', 'lan');
    assert.match(id, PVN_ID, id);
    assert.ok(id.startsWith('52 '), `${id} starts like Workstation's`);
  });

  it('are derived from the lab and the network: stable, and distinct per lab and per network', () => {
    assert.equal(labSegmentId('net101', 'lan'), labSegmentId('net101', 'lan'), 'a rebuild keeps the id');
    const ids = [labSegmentId('net101', 'lan'), labSegmentId('net101', 'dmz'), labSegmentId('net102', 'lan'), labSegmentId('net10', '1lan')];
    assert.equal(new Set(ids).size, ids.length, `distinct: ${ids.join(' | ')}`);
  });
});

/** `key = "value"` lines of a .vmx as a map. */
function vmxSettings(vmx: string): Map<string, string> {
  return new Map(vmx.split('\n').flatMap((l) => {
    const m = /^(\S+) = "([^"]*)"$/.exec(l);
    return m ? [[m[1]!, m[2]!] as [string, string]] : [];
  }));
}

describe('VMware lab machines', () => {
  const lab = exampleLab('two-vm.conf', 'vmware');
  const networks = labManifestNetworks(lab);
  const vmx = lab.machines.map((machine) => {
    const { spec, layout } = machineSpec(machine, 'vmware');
    const diskFiles = Object.fromEntries(layout.disks.map((d) => [d.name, `${d.file}.vmdk`]));
    return { machine, text: labVmx(spec, layout, { lab: lab.name, machine, networks }, { diskFiles, isoFiles: {} }) };
  });

  it('match their golden .vmx', () => {
    for (const { machine, text } of vmx) assertGolden(`lab/vmware/machines/${machine.name}/${machine.name}.vmx`, text);
  });

  /*
   * What reads these keys. VMware Workstation: a NIC on a LAN segment is connectionType = "pvn" with
   * the segment's pvnID (as Workstation writes it; its preferences.ini names the segment). libvirt's
   * VMX reader (src/vmx/vmx.c, virVMXParseEthernet) accepts connectionType bridged, nat and custom,
   * "No yet handled" for hostonly, and "Invalid value" for anything else, pvn included: these .vmx
   * files are for Workstation and Player, not for libvirt's vmware/esx drivers. The same reader takes
   * addressType "static" with ethernetN.address, and its mapping table gives VMware's static range
   * 00:50:56:00:00:00 - 00:50:56:3f:ff:ff, which the lab's MACs for vmware lie in.
   */
  it('put every NIC on its network\'s LAN segment with the lab\'s static MAC', () => {
    for (const { machine, text } of vmx) {
      const keys = vmxSettings(text);
      machine.nics.forEach((nic, i) => {
        const at = (k: string): string | undefined => keys.get(`ethernet${i}.${k}`);
        assert.equal(at('connectionType'), 'pvn', `${machine.name}.${nic.nic} is on a LAN segment`);
        assert.equal(at('pvnID'), labSegmentId(lab.name, nic.network), `${machine.name}.${nic.nic} on ${nic.network}'s segment`);
        assert.equal(at('addressType'), 'static', `${machine.name}.${nic.nic} keeps its MAC`);
        assert.equal(at('address'), nic.mac, `${machine.name}.${nic.nic} has the lab's MAC`);
        assert.equal(at('networkName'), undefined, 'no networkName: that is a bridged NIC\'s');
      });
    }
  });

  it('write only keys VMX_KEYS_DOCUMENTED names a reader or writer for', () => {
    // As test/targets/vmware.test.ts reads the patterns: # a number, <bus> one of VMware's disk buses.
    const documented = Object.keys(VMX_KEYS_DOCUMENTED).map((p) => new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<bus>/g, '(?:ide|scsi|sata|nvme)').replace(/#/g, '\\d+')}$`));
    for (const { machine, text } of vmx) {
      for (const key of vmxSettings(text).keys()) assert.ok(documented.some((re) => re.test(key)), `${machine.name}: ${key} has no entry in VMX_KEYS_DOCUMENTED`);
    }
  });

  it('the segment ids in the vmx are the ones topology/segments.json lists', () => {
    const segments = JSON.parse(LAB_TOPOLOGY_VMWARE(lab)) as Array<{ network: string; pvnID: string }>;
    const ids = new Set(segments.map((s) => s.pvnID));
    for (const { text } of vmx) for (const [k, v] of vmxSettings(text)) if (k.endsWith('.pvnID')) assert.ok(ids.has(v), `${k} = ${v} is a listed segment`);
  });
});

function LAB_TOPOLOGY_VMWARE(lab: Lab): string {
  return vmwareTopology(lab, labManifestNetworks(lab))[0]!.content;
}

describe('VirtualBox lab machines', () => {
  const lab = exampleLab('two-vm.conf', 'virtualbox');
  const networks = labManifestNetworks(lab);
  const ovf = lab.machines.map((machine) => {
    const { spec, layout } = machineSpec(machine, 'virtualbox');
    const disks = layout.disks.map((d) => ({ name: d.name, file: `${d.file}.vmdk`, capacityBytes: d.sizeMiB * 1024 * 1024, fileBytes: 0 }));
    return { machine, text: labOvf(spec, layout, { machine, networks }, { disks, isoFiles: {} }) };
  });

  it('match their golden OVF descriptors', () => {
    for (const { machine, text } of ovf) assertGolden(`lab/virtualbox/machines/${machine.name}/${machine.name}.ovf`, text);
  });

  /*
   * What VirtualBox reads. With a vbox:Machine section the import takes the NICs' attachment from it
   * (Settings.cpp, MachineConfigFile::readAttachedNetworkMode: <InternalNetwork name="…"/> is
   * NetworkAttachmentType_Internal, and the name is required: "Required InternalNetwork/@name element
   * is missing"). Its reader of the standard section alone (ApplianceImpl.cpp, Appliance::interpret)
   * knows the connection names Null, NAT, Bridged, Internal, HostOnly and Generic and takes any other
   * as Bridged ("VMware assumes this is the default apparently"), and an "Internal" one carries no
   * network name. So the name lives in vbox:Machine, and rasd:Connection names the lab's network as OVF
   * means it (a network of the NetworkSection), for VMware's importer, which maps networks by name.
   */
  it('put every NIC on its network\'s internal network in both sections, with the lab\'s MAC', () => {
    for (const { machine, text } of ovf) {
      const adapters = [...text.matchAll(/<Adapter slot="(\d+)"[^>]*MACAddress="([0-9A-F]{12})"[^>]*>\s*<InternalNetwork name="([^"]+)"\/>/g)];
      assert.equal(adapters.length, machine.nics.length, `${machine.name}: one internal adapter per NIC`);
      machine.nics.forEach((nic, i) => {
        const net = networks.find((n) => n.name === nic.network)!;
        assert.equal(adapters[i]![3], net.internalNetwork, `${machine.name}.${nic.nic} on ${net.internalNetwork}`);
        assert.equal(adapters[i]![2], nic.mac.replace(/:/g, '').toUpperCase(), `${machine.name}.${nic.nic} keeps ${nic.mac}`);
        assert.ok(text.includes(`<rasd:Connection>${net.internalNetwork}</rasd:Connection>`), `${machine.name}: rasd:Connection ${net.internalNetwork}`);
        assert.ok(text.includes(`<Network ovf:name="${net.internalNetwork}">`), `${machine.name}: ${net.internalNetwork} in the NetworkSection`);
      });
      assert.doesNotMatch(text, /HostOnlyInterface|choose the host interface/, `${machine.name}: no host-only adapter is left`);
    }
  });

  it('pass xmllint as XML', (t) => {
    if (!has('xmllint')) {
      t.skip('xmllint is not installed');
      return;
    }
    for (const { machine, text } of ovf) {
      const r = spawnSync('xmllint', ['--noout', '-'], { input: text, encoding: 'utf8' });
      assert.equal(r.status, 0, `xmllint ${machine.name}.ovf: ${r.stderr}`);
    }
  });
});

describe('vmgen lab render -t TARGET', () => {
  it('writes the target\'s topology files beside the machine configs, the same files lab build stores', () => {
    for (const target of ['lxc', 'qemu', 'oci', 'vmware', 'virtualbox']) {
      const lab = exampleLab('two-vm.conf', target);
      const files = renderedLabFiles(lab, targetFor(target));
      const topology = LAB_TOPOLOGY[target]!(lab, labManifestNetworks(lab));
      assert.ok(topology.length > 0, `${target} has topology files`);
      for (const f of topology) assert.equal(files.get(f.path), f.content, `${target}: ${f.path} is written as rendered`);
      assert.ok(files.has('lab.json') && files.has('machines/gw.conf'), `${target}: the machine configs and lab.json are still there`);
    }
  });

  it('writes no topology without a target', () => {
    const files = renderedLabFiles(exampleLab('two-vm.conf', 'qemu'), undefined);
    assert.deepEqual([...files.keys()].filter((p) => p.startsWith('topology/')), [], 'no topology/ files');
  });

  it('the command writes them under DIR/topology', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vmgen-labrender-'));
    rmSync(out, { recursive: true });
    try {
      const r = await runCli('vmgen', ['lab', 'render', join(EXAMPLE, 'two-vm.conf'), '-o', out, '-t', 'qemu']);
      assert.equal(r.code, 0, r.stderr);
      const lab = exampleLab('two-vm.conf', 'qemu');
      for (const f of LAB_TOPOLOGY.qemu!(lab, labManifestNetworks(lab))) assert.equal(readFileSync(join(out, f.path), 'utf8'), f.content, f.path);
      assert.ok(r.stdout.includes(join(out, 'topology/bridges.sh')), `the written paths are listed: ${r.stdout}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
