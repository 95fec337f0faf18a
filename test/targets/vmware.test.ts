import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ResolvedNic, ResolvedSpec } from '../../src/config/resolve.js';
import type { VmLayout } from '../../src/disks/layout.js';
import { loadCatalogs } from '../../src/catalog/load.js';
import type { OsEntry } from '../../src/catalog/schema.js';
import { vmControllers } from '../../src/targets/vm/controllers.js';
import { VIRTUAL_HW_VERSION } from '../../src/targets/vm/hardware-version.js';
import { BRIDGED_NETWORK, VMX_KEYS_DOCUMENTED, pcieSlotNumber, renderVmx, setting } from '../../src/targets/vmware/render.js';
import { assertGolden } from '../helpers/golden.js';
import { VM_CASE_NAMES, diskFiles, vmCase, vmCaseFromFile, type VmCase } from './vm-specs.js';

/** `key = "value"` pairs of a .vmx, with VMware's |XX escapes undone; comments and blank lines skipped. */
function settings(vmx: string): Array<[string, string]> {
  return vmx.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const m = /^(\S+) = "([^"]*)"$/.exec(l);
    assert.ok(m, `not a 'key = "value"' line: ${JSON.stringify(l)}`);
    return [m[1]!, m[2]!.replace(/\|([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))];
  });
}

function value(vmx: string, key: string): string | undefined {
  const found = settings(vmx).filter(([k]) => k === key);
  assert.ok(found.length <= 1, `${key} is set ${found.length} times`);
  return found[0]?.[1];
}

/** A documented pattern as a regex: # is a number, <bus> one of VMware's disk buses. */
function patternRegex(pattern: string): RegExp {
  const body = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<bus>/g, '(?:ide|scsi|sata|nvme)').replace(/#/g, '\\d+');
  return new RegExp(`^${body}$`);
}

const DOCUMENTED = Object.keys(VMX_KEYS_DOCUMENTED).map(patternRegex);

function render(spec: ResolvedSpec, layout: VmLayout): string {
  return renderVmx(spec, layout, { diskFiles: diskFiles(layout, 'vmdk'), isoFiles: {} });
}

const web = vmCase('web', 'vmware');
const devices = vmCase('devices', 'vmware');
/** The seed's headline case, golden-tested on VMware only. */
const winxp = vmCaseFromFile('../fixtures/vm/winxp.conf', 'vmware');
const CASES: Array<[string, VmCase]> = [...VM_CASE_NAMES.map((n): [string, VmCase] => [n, vmCase(n, 'vmware')]), ['winxp', winxp]];

const OS_TABLE = loadCatalogs({ env: {} }).os;
function os(id: string): OsEntry {
  const entry = OS_TABLE.find((o) => o.id === id);
  assert.ok(entry, `no OS ${id} in the catalog`);
  return entry;
}

const NIC: ResolvedNic = { name: 'eth0', index: 0, link: 'nat', connected: true, mode: 'dhcp', dns: [] };

describe('VMware golden files', () => {
  for (const [name, { spec, layout }] of CASES) {
    it(`renders ${name}`, () => {
      assertGolden(`vmware/${name}/${spec.name}.vmx`, render(spec, layout));
    });
  }

  it('writes only keys whose documentation VMX_KEYS_DOCUMENTED names', () => {
    for (const [name, { spec }] of CASES) {
      const golden = readFileSync(fileURLToPath(new URL(`../golden/vmware/${name}/${spec.name}.vmx`, import.meta.url)), 'utf8');
      for (const [key] of settings(golden)) assert.ok(DOCUMENTED.some((re) => re.test(key)), `${key} has no entry in VMX_KEYS_DOCUMENTED`);
    }
  });

  it('documents every key of the seed\'s Listing 4.1', () => {
    const listing = readFileSync(fileURLToPath(new URL('../fixtures/seed/listing-4.1.vmx', import.meta.url)), 'utf8');
    // The listing's "idel:0" is the thesis' typesetting of ide1:0.
    for (const [key] of settings(listing.replace(/^idel:/gm, 'ide1:'))) {
      assert.ok(DOCUMENTED.some((re) => re.test(key)), `${key} from Listing 4.1 is not documented`);
    }
  });
});

describe('renderVmx', () => {
  it('starts like VMware\'s own files and the seed\'s: encoding, versions, guest, name', () => {
    const vmx = render(web.spec, web.layout);
    assert.equal(vmx.split('\n')[0], '#!/usr/bin/vmware');
    assert.deepEqual(settings(vmx).slice(0, 6), [
      ['.encoding', 'UTF-8'], ['config.version', '8'], ['virtualHW.version', String(VIRTUAL_HW_VERSION)],
      ['virtualHW.productCompatibility', 'hosted'], ['guestOS', 'debian12-64'], ['displayName', 'web1'],
    ]);
    assert.equal(VIRTUAL_HW_VERSION, 19);
  });

  it('says it is for the hosted products, whose sparse disks ESXi does not run', () => {
    // libvirt tests/vmx2xmldata/fusion-in-the-wild-1.vmx, written by VMware Fusion, marks itself
    // virtualHW.productCompatibility = "hosted"; the ESXi-written esx-in-the-wild-*.vmx have no such line.
    // ESXi runs only its own VMFS disk formats: a hosted monolithicSparse disk must go through
    // vmkfstools -i or an OVA first (VMware Virtual Disk Format 1.1, "Hosted Sparse Extents").
    for (const [name, { spec, layout }] of CASES) {
      const vmx = render(spec, layout);
      assert.equal(value(vmx, 'virtualHW.productCompatibility'), 'hosted', name);
      const comments = vmx.split('\n').filter((l) => l.startsWith('#')).join('\n');
      assert.doesNotMatch(comments, /ESXi \d/, `${name}: the header must not promise an ESXi version`);
      assert.match(comments, /Workstation .*Fusion/, `${name}: the header names the hosted products`);
      assert.match(comments, /ESXi does not run.*--format ova/, `${name}: the header sends ESXi users to the OVA`);
    }
  });

  it('maps CPUs and memory, rounding memory up to a multiple of 4 MB', () => {
    const vmx = render(web.spec, web.layout);
    assert.equal(value(vmx, 'numvcpus'), '2');
    assert.equal(value(vmx, 'memsize'), '1024');
    const odd = render({ ...web.spec, ramMiB: 1001 }, web.layout);
    assert.equal(value(odd, 'memsize'), '1004');
    assert.match(odd, /# 1001 MB rounded up/);
  });

  it('writes firmware = "efi" for UEFI and nothing for BIOS, VMware\'s default', () => {
    assert.equal(value(render(web.spec, web.layout), 'firmware'), 'efi');
    assert.equal(value(render(devices.spec, devices.layout), 'firmware'), undefined);
    assert.equal(value(render(web.spec, web.layout), 'floppy0.present'), 'FALSE');
  });

  it('declares each controller once, with its model for SCSI, and none for IDE', () => {
    const vmx = render(web.spec, web.layout);
    assert.equal(value(vmx, 'scsi0.present'), 'TRUE');
    assert.equal(value(vmx, 'scsi0.virtualDev'), 'pvscsi');
    assert.equal(value(vmx, 'scsi0:0.fileName'), 'web1-hdd0.vmdk');
    assert.equal(value(vmx, 'scsi0:0.deviceType'), undefined);
    const lab = render(devices.spec, devices.layout);
    assert.equal(value(lab, 'scsi0.virtualDev'), 'lsilogic');
    assert.equal(value(lab, 'nvme0.present'), 'TRUE');
    assert.equal(value(lab, 'nvme0:0.fileName'), 'lab1-hdd1.vmdk');
    assert.equal(value(lab, 'sata0.present'), 'TRUE');
    assert.equal(value(lab, 'ide1.present'), undefined);
    for (const model of ['lsilogic', 'buslogic', 'lsisas1068', 'pvscsi'] as const) {
      const layout = { ...web.layout, disks: web.layout.disks.map((d) => ({ ...d, controller: model })) };
      assert.equal(value(render(web.spec, layout), 'scsi0.virtualDev'), model);
    }
  });

  it('gives a CD drive its ISO, or an unconnected host drive when it has none', () => {
    const lab = render(devices.spec, devices.layout);
    assert.equal(value(lab, 'ide1:0.deviceType'), 'cdrom-image');
    assert.equal(value(lab, 'ide1:0.fileName'), '/srv/iso/debian-12-amd64-netinst.iso');
    assert.equal(value(lab, 'ide1:0.startConnected'), 'TRUE');
    assert.equal(value(lab, 'sata0:0.deviceType'), 'cdrom-raw');
    assert.equal(value(lab, 'sata0:0.startConnected'), 'FALSE');
    const shipped = renderVmx(devices.spec, devices.layout, { diskFiles: diskFiles(devices.layout, 'vmdk'), isoFiles: { cd0: 'netinst.iso' } });
    assert.equal(value(shipped, 'ide1:0.fileName'), 'netinst.iso');
  });

  it('maps NICs: vmxnet3 for Linux, connection type, plugged state, static or generated MAC', () => {
    const lab = render(devices.spec, devices.layout);
    assert.equal(value(lab, 'ethernet0.virtualDev'), 'vmxnet3');
    assert.equal(value(lab, 'ethernet0.connectionType'), 'bridged');
    assert.equal(value(lab, 'ethernet0.networkName'), 'VM Network');
    assert.equal(value(lab, 'ethernet0.startConnected'), 'TRUE');
    assert.equal(value(lab, 'ethernet0.addressType'), 'static');
    assert.equal(value(lab, 'ethernet0.address'), '00:50:56:00:20:01');
    assert.equal(value(lab, 'ethernet1.connectionType'), 'hostonly');
    assert.equal(value(lab, 'ethernet1.startConnected'), 'FALSE');
    assert.equal(value(lab, 'ethernet1.addressType'), 'generated');
    assert.equal(value(lab, 'ethernet1.address'), undefined);
    assert.equal(value(render(web.spec, web.layout), 'ethernet0.connectionType'), 'nat');
  });

  it('picks the NIC VMware picks for the guest OS, one the guest has an in-box driver for', () => {
    // VMware's choice per guest (vSphere 6.7 Virtual Machine Administration, "Network Adapter Basics",
    // topic GUID-AF9E24A8-2CFA-447B-AC83-35D563119667 "Network Adapter Types"):
    // "E1000E ... is the default adapter for Windows 8 and Windows Server 2012"; E1000 has "drivers
    // available in ... Windows XP and later"; VMXNET 3 needs VMware Tools on Windows, and Linux has
    // carried its driver (drivers/net/vmxnet3) since 2.6.32. The values are those libvirt's
    // virVMXParseEthernet (src/vmx/vmx.c) accepts for ethernetN.virtualDev.
    const expected: Record<string, string> = {
      winxppro: 'e1000', windows7: 'e1000', 'windows7-64': 'e1000',
      'windows10-64': 'e1000e', 'windows11-64': 'e1000e', 'windows2022srv-64': 'e1000e',
    };
    for (const entry of OS_TABLE) {
      const want = expected[entry.id] ?? (entry.family === 'windows' ? undefined : 'vmxnet3');
      assert.ok(want, `${entry.id}: a Windows entry this test has no expectation for`);
      const vmx = render({ ...web.spec, os: entry }, web.layout);
      assert.equal(value(vmx, 'ethernet0.virtualDev'), want, entry.id);
      assert.ok(['vlance', 'vmxnet', 'vmxnet3', 'e1000', 'e1000e'].includes(want), `${want} is a virtualDev libvirt's reader knows`);
    }
  });

  it('gives the seed\'s Windows XP machine e1000 NICs on the PCI bus: XP has no vmxnet3 or e1000e driver', () => {
    const vmx = render(winxp.spec, winxp.layout);
    assert.equal(winxp.spec.os.id, 'winxppro');
    assert.equal(value(vmx, 'ethernet0.virtualDev'), 'e1000');
    assert.equal(value(vmx, 'ethernet1.virtualDev'), 'e1000');
    // e1000 and IDE are PCI devices: VMware numbers their slots itself.
    assert.doesNotMatch(vmx, /^(?:ide|ethernet)\d+\.pciSlotNumber/m);
  });

  it('names the network of a bridged NIC, as ESXi needs and libvirt\'s reader expects', () => {
    // libvirt src/vmx/vmx.c, virVMXParseEthernet: for connectionType "bridged" (or none, as ESXi
    // writes it) ethernetN.networkName is the network the NIC joins; "VM Network" is ESXi's default port group.
    const vmx = render(winxp.spec, winxp.layout);
    assert.equal(value(vmx, 'ethernet1.connectionType'), 'bridged');
    assert.equal(value(vmx, 'ethernet1.networkName'), BRIDGED_NETWORK);
    assert.equal(BRIDGED_NETWORK, 'VM Network');
    assert.equal(value(vmx, 'ethernet0.networkName'), undefined, 'a NAT NIC joins no named network');
  });

  it('refuses what VMware would change or cannot hold', () => {
    assert.throws(() => render({ ...web.spec, nics: [{ ...NIC, mac: '02:00:00:00:00:01' }] }, web.layout), /VMware static MAC/);
    const eleven = Array.from({ length: 11 }, (_, i) => ({ ...NIC, name: `eth${i}`, index: i }));
    assert.throws(() => render({ ...web.spec, nics: eleven }, web.layout), /at most 10 NICs/);
    assert.throws(() => renderVmx(web.spec, web.layout, { diskFiles: {}, isoFiles: {} }), /no disk file given for disk hdd0/);
  });

  it('escapes " and | the way VMware does and refuses control characters', () => {
    assert.equal(setting('displayName', 'a "b" | c'), 'displayName = "a |22b|22 |7C c"');
    const vmx = render({ ...web.spec, name: 'x"y|z' }, web.layout);
    assert.equal(value(vmx, 'displayName'), 'x"y|z');
    assert.throws(() => render({ ...web.spec, name: 'web1\nguestOS = "other"' }, web.layout), /control character/);
    assert.throws(() => setting('displayName', 'tab\there'), /control character/);
  });
});

/**
 * PCI Express root ports as VMware writes them. libvirt tests/vmx2xmldata/esx-in-the-wild-14.vmx
 * (ESXi, hardware 19) and fusion-in-the-wild-1.vmx (Fusion, a Windows XP machine with BusLogic and
 * e1000 only, so VMware writes them whatever the devices): pciBridge0 present at slot 17;
 * pciBridge4-7 present, virtualDev "pcieRootPort", functions "8", slots 21-24; a pvscsi scsi0 at
 * pciSlotNumber 160 and a vmxnet3 ethernet0 at 192. A slot number is bus * 32 + device, plus
 * function * 1024 (160 = bus 5, behind pciBridge4; 1184 = the same bridge's second port).
 */
describe('PCI Express root ports', () => {
  function slotOwners(vmx: string): Map<string, number> {
    return new Map(settings(vmx).filter(([k]) => /^(?:scsi|nvme|sata|ethernet)\d+\.pciSlotNumber$/.test(k)).map(([k, v]) => [k.split('.')[0]!, Number(v)]));
  }

  it('are written the way VMware writes them, into every machine as VMware does', () => {
    for (const [name, { spec, layout }] of CASES) assert.equal(value(render(spec, layout), 'pciBridge7.virtualDev'), 'pcieRootPort', name);
    const vmx = render(web.spec, web.layout);
    assert.equal(value(vmx, 'pciBridge0.present'), 'TRUE');
    assert.equal(value(vmx, 'pciBridge0.pciSlotNumber'), '17');
    for (const [i, bridge] of [4, 5, 6, 7].entries()) {
      assert.equal(value(vmx, `pciBridge${bridge}.present`), 'TRUE');
      assert.equal(value(vmx, `pciBridge${bridge}.virtualDev`), 'pcieRootPort');
      assert.equal(value(vmx, `pciBridge${bridge}.functions`), '8');
      assert.equal(value(vmx, `pciBridge${bridge}.pciSlotNumber`), String(21 + i));
    }
    for (const n of [1, 2, 3]) assert.equal(value(vmx, `pciBridge${n}.present`), undefined, `pciBridge${n} is not VMware's`);
    // The same numbers as esx-in-the-wild-14.vmx: pvscsi first, then vmxnet3.
    assert.deepEqual([...slotOwners(vmx)], [['scsi0', 160], ['ethernet0', 192]]);
  });

  it('number the slots as VMware does: each bridge\'s first port, then the second', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 31].map(pcieSlotNumber), [160, 192, 224, 256, 1184, 1216, 7424]);
    assert.throws(() => pcieSlotNumber(32), /32 PCI Express root ports/);
  });

  it('give every PCIe device its own slot on a root port that exists, and leave PCI devices to VMware', () => {
    const ten = Array.from({ length: 10 }, (_, i) => ({ ...NIC, name: `eth${i}`, index: i }));
    const nvme = { ...devices.layout, disks: [...devices.layout.disks, { ...devices.layout.disks[1]!, name: 'hdd2', file: 'lab1-hdd2', bus: 1 }] };
    for (const [label, spec, layout] of [
      ['lab1', devices.spec, devices.layout], ['web1 with ten NICs', { ...web.spec, nics: ten }, web.layout],
      ['lab1 on Windows 10 with two NVMe controllers', { ...devices.spec, os: os('windows10-64') }, nvme],
    ] as const) {
      const vmx = render(spec, layout);
      const owners = slotOwners(vmx);
      const slots = [...owners.values()];
      assert.equal(new Set(slots).size, slots.length, `${label}: two devices share a slot: ${JSON.stringify([...owners])}`);
      for (const [device, slot] of owners) {
        const bus = (slot >> 5) & 0x1f;
        const fn = slot >> 10;
        const bridge = bus - 1;
        assert.ok([4, 5, 6, 7].includes(bridge), `${label}: ${device} at ${slot} is behind pciBridge${bridge}, not a root port`);
        assert.equal(value(vmx, `pciBridge${bridge}.virtualDev`), 'pcieRootPort', `${label}: ${device}'s bridge`);
        assert.ok(fn < Number(value(vmx, `pciBridge${bridge}.functions`)), `${label}: ${device} uses function ${fn}`);
        const model = device.startsWith('ethernet') ? value(vmx, `${device}.virtualDev`) : device.startsWith('nvme') ? 'nvme' : value(vmx, `${device}.virtualDev`);
        assert.ok(['vmxnet3', 'e1000e', 'pvscsi', 'nvme'].includes(model ?? ''), `${label}: ${device} (${model}) is no PCIe device`);
      }
      // Every PCIe device has a slot; the PCI ones (LSI Logic, IDE, AHCI, e1000) have none.
      const expected = settings(vmx).filter(([k, v]) => (/^scsi\d+\.virtualDev$/.test(k) && v === 'pvscsi') || /^nvme\d+\.present$/.test(k) || (/^ethernet\d+\.virtualDev$/.test(k) && ['vmxnet3', 'e1000e'].includes(v)));
      assert.equal(owners.size, expected.length, `${label}: ${expected.length} PCIe devices, ${owners.size} slots`);
    }
  });

  it('number no PCI device, as esx-in-the-wild-13.vmx shows: lsilogic at 16 on the PCI bus, vmxnet3 first on a root port (160)', () => {
    const pci = { ...web.layout, disks: web.layout.disks.map((d) => ({ ...d, controller: 'lsilogic' as const })) };
    assert.deepEqual([...slotOwners(render(web.spec, pci))], [['ethernet0', 160]]);
    const win7 = render({ ...web.spec, os: os('windows7-64') }, { ...pci, disks: pci.disks.map((d) => ({ ...d, controller: 'lsisas1068' as const })) });
    assert.equal(value(win7, 'ethernet0.virtualDev'), 'e1000');
    assert.deepEqual([...slotOwners(win7)], [], 'LSI Logic SAS and e1000 are placed by VMware');
    assert.equal(value(win7, 'pciBridge4.virtualDev'), 'pcieRootPort', 'the root ports are there for VMware to use');
  });
});

describe('vmControllers', () => {
  const disk = web.layout.disks[0]!;

  it('groups devices by controller, boot disk\'s first, units sorted', () => {
    const groups = vmControllers(devices.layout);
    assert.deepEqual(groups.map((g) => `${g.bus}${g.index}:${g.model}:${g.devices.map((d) => d.unit).join(',')}`),
      ['scsi0:lsilogic:0', 'nvme0:nvme:0', 'ide1:ide:0', 'sata0:sata:0']);
  });

  it('lets CD drives join a SCSI controller whatever model their generic type gave them', () => {
    const cd = { name: 'cd0', controller: 'lsilogic' as const, bus: 0, unit: 1, copy: false, connected: true };
    const [group] = vmControllers({ ...web.layout, cdDrives: [cd] });
    assert.equal(group?.model, 'pvscsi');
    assert.equal(group?.devices.length, 2);
  });

  it('refuses two SCSI models on one controller, two devices on one unit and CD drives on NVMe', () => {
    const other = { ...disk, name: 'hdd1', controller: 'lsilogic' as const, unit: 1 };
    assert.throws(() => vmControllers({ ...web.layout, disks: [disk, other] }), /both pvscsi and lsilogic/);
    assert.throws(() => vmControllers({ ...web.layout, disks: [disk, { ...disk, name: 'hdd1' }] }), /scsi0:0 holds two devices/);
    const cd = { name: 'cd0', controller: 'nvme' as const, bus: 0, unit: 1, copy: false, connected: true };
    assert.throws(() => vmControllers({ ...web.layout, cdDrives: [cd] }), /NVMe controllers hold disks only/);
  });
});
