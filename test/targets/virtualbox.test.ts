import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { ResolvedNic, ResolvedSpec } from '../../src/config/resolve.js';
import type { VmLayout } from '../../src/disks/layout.js';
import {
  ISO_FORMAT, OVF_VIRTUAL_SYSTEM_TYPE, VMDK_STREAM_OPTIMIZED, guestType, renderManifest, renderOvf, type OvfOptions,
} from '../../src/targets/virtualbox/render.js';
import { vboxAdapterType } from '../../src/targets/virtualbox/machine.js';
import { VIRTUAL_HW_VERSION } from '../../src/targets/vm/hardware-version.js';
import { loadCatalogs } from '../../src/catalog/load.js';
import { assertGolden } from '../helpers/golden.js';
import { VM_CASE_NAMES, vmCase } from './vm-specs.js';

/** Appliance files as the VirtualBox packager describes them (sizes made up, but stable). */
function applianceOptions(layout: VmLayout): OvfOptions {
  return {
    disks: layout.disks.map((d, i) => ({
      name: d.name, file: `${d.file}.vmdk`, capacityBytes: d.sizeMiB * 1024 * 1024, fileBytes: 300_000_000 + i, ...(i === 0 ? { populatedBytes: 900_000_000 } : {}),
    })),
  };
}

/** The devices case with cd0's ISO shipped inside the appliance. */
function withIso(layout: VmLayout): OvfOptions {
  return { ...applianceOptions(layout), isoFiles: { cd0: 'netinst.iso' }, isoBytes: { 'netinst.iso': 4_194_304 } };
}

function render(spec: ResolvedSpec, layout: VmLayout, opts: OvfOptions = applianceOptions(layout)): string {
  return renderOvf(spec, layout, opts);
}

interface Item { fields: Array<[string, string]>; get(name: string): string | undefined }

/** The descriptor's parts, read from the one-element-per-line form renderOvf writes. */
function parse(ovf: string) {
  const all = (re: RegExp) => [...ovf.matchAll(re)];
  const files = all(/<File ovf:href="([^"]+)" ovf:id="([^"]+)"/g).map((m) => ({ href: m[1]!, id: m[2]! }));
  const disks = all(/<Disk ovf:capacity="(\d+)" ovf:diskId="([^"]+)" ovf:fileRef="([^"]+)" ovf:format="([^"]+)"/g)
    .map((m) => ({ capacity: Number(m[1]), id: m[2]!, fileRef: m[3]!, format: m[4]! }));
  const items: Item[] = all(/<Item>\n([\s\S]*?)\n\s*<\/Item>/g).map((m) => {
    const fields = [...m[1]!.matchAll(/<rasd:(\w+)>([^<]*)<\/rasd:\1>/g)].map((f): [string, string] => [f[1]!, f[2]!]);
    return { fields, get: (name: string) => fields.find(([k]) => k === name)?.[1] };
  });
  const networks = all(/<Network ovf:name="([^"]+)">/g).map((m) => m[1]!);
  const uuids = all(/ovf:diskId="([^"]+)"[^>]* vbox:uuid="([^"]+)"/g).map((m) => ({ diskId: m[1]!, uuid: m[2]! }));
  const machine = /<vbox:Machine [\s\S]*<\/vbox:Machine>/.exec(ovf)?.[0];
  return { files, disks, items, networks, uuids, machine };
}

function xmllint(xml: string): { status: number | null; stderr: string } {
  const r = spawnSync('xmllint', ['--noout', '-'], { input: xml, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

const hasXmllint = spawnSync('sh', ['-c', 'command -v xmllint']).status === 0;
const web = vmCase('web', 'virtualbox');
const devices = vmCase('devices', 'virtualbox');
const NIC: ResolvedNic = { name: 'eth0', index: 0, link: 'nat', connected: true, mode: 'dhcp', dns: [] };

describe('VirtualBox golden files', () => {
  for (const name of VM_CASE_NAMES) {
    it(`renders ${name}`, () => {
      const { spec, layout } = vmCase(name, 'virtualbox');
      assertGolden(`virtualbox/${name}/${spec.name}.ovf`, render(spec, layout));
    });
  }

  it('renders devices with a CD image inside the appliance', () => {
    assertGolden('virtualbox/devices-iso/lab1.ovf', render(devices.spec, devices.layout, withIso(devices.layout)));
  });

  it('renders a manifest', () => {
    assertGolden('virtualbox/web/web1.mf', renderManifest([
      { name: 'web1.ovf', sha256: 'a'.repeat(64) }, { name: 'web1-hdd0.vmdk', sha256: '0123456789ABCDEF'.repeat(4) },
    ]));
  });
});

describe('renderOvf', () => {
  it('is well-formed XML', { skip: !hasXmllint && 'xmllint missing' }, () => {
    for (const name of VM_CASE_NAMES) {
      const { spec, layout } = vmCase(name, 'virtualbox');
      const r = xmllint(render(spec, layout));
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    }
  });

  it('holds together: every file is used once, every disk by one item, every parent is a controller', () => {
    for (const name of VM_CASE_NAMES) {
      const { spec, layout } = vmCase(name, 'virtualbox');
      const { files, disks, items } = parse(render(spec, layout, withIso(layout)));
      const hosts = items.map((i) => i.get('HostResource')).filter((h): h is string => h !== undefined);
      for (const f of files) {
        const users = disks.filter((d) => d.fileRef === f.id).length;
        assert.equal(users, 1, `${name}: file ${f.id} is used ${users} times`);
      }
      for (const d of disks) assert.equal(hosts.filter((h) => h === `ovf:/disk/${d.id}`).length, 1, `${name}: disk ${d.id}`);
      assert.equal(disks.filter((d) => d.format === VMDK_STREAM_OPTIMIZED).length, layout.disks.length);
      const ids = items.map((i) => i.get('InstanceID'));
      assert.equal(new Set(ids).size, ids.length, `${name}: duplicate InstanceID`);
      const controllers = new Set(items.filter((i) => ['5', '6', '20'].includes(i.get('ResourceType')!)).map((i) => i.get('InstanceID')));
      for (const item of items.filter((i) => i.get('Parent') !== undefined)) {
        assert.ok(controllers.has(item.get('Parent')), `${name}: ${item.get('ElementName')} has no controller`);
        assert.ok(ids.indexOf(item.get('Parent')) < ids.indexOf(item.get('InstanceID')), 'a controller comes before its devices');
      }
    }
  });

  it('writes RASD fields in alphabetical order, as the CIM schema requires', () => {
    for (const item of parse(render(devices.spec, devices.layout)).items) {
      const names = item.fields.map(([k]) => k);
      assert.deepEqual(names, [...names].sort());
      for (const required of ['ElementName', 'InstanceID', 'ResourceType']) assert.ok(names.includes(required), required);
    }
  });

  it('describes the system the way VirtualBox exports one', () => {
    const ovf = render(web.spec, web.layout);
    assert.match(ovf, /<Envelope ovf:version="1.0" xml:lang="en-US" xmlns="http:\/\/schemas.dmtf.org\/ovf\/envelope\/1"/);
    assert.match(ovf, new RegExp(`<vssd:VirtualSystemType>${OVF_VIRTUAL_SYSTEM_TYPE}</vssd:VirtualSystemType>`));
    assert.match(ovf, /<OperatingSystemSection ovf:id="96">/);
    assert.match(ovf, /<vbox:OSType ovf:required="false">Debian_64<\/vbox:OSType>/);
    const { items, disks } = parse(ovf);
    assert.deepEqual(items.filter((i) => i.get('ResourceType') === '3').map((i) => i.get('VirtualQuantity')), ['2']);
    const memory = items.find((i) => i.get('ResourceType') === '4');
    assert.equal(memory?.get('VirtualQuantity'), '1024');
    assert.equal(memory?.get('AllocationUnits'), 'MegaBytes');
    assert.deepEqual(disks, [{ capacity: 4096 * 1024 * 1024, id: 'vmdisk1', fileRef: 'file1', format: VMDK_STREAM_OPTIMIZED }]);
    assert.match(ovf, /ovf:populatedSize="900000000"/);
  });

  it('maps controllers to VirtualBox\'s subtypes', () => {
    const controllers = (spec: ResolvedSpec, layout: VmLayout) => parse(render(spec, layout)).items
      .filter((i) => ['5', '6', '20'].includes(i.get('ResourceType')!))
      .map((i) => `${i.get('ResourceType')}:${i.get('ResourceSubType')}:${i.get('Address')}`);
    // PVSCSI has no VirtualBox counterpart; its LSI Logic is driven by the same guest driver family.
    assert.deepEqual(controllers(web.spec, web.layout), ['6:lsilogic:0']);
    // Both IDE channels, or VirtualBox would take the secondary one for the primary. SATA and NVMe
    // carry VMware's subtypes, which ovfreader.cpp (ResourceType_OtherStorageDevice) accepts beside
    // "AHCI" and "NVMe"; IDE none, as in VMware's OVFs, and VirtualBox's interpret() then takes PIIX4.
    assert.deepEqual(controllers(devices.spec, devices.layout), ['6:lsilogic:0', '20:vmware.nvme.controller:0', '5:undefined:0', '5:undefined:1', '20:vmware.sata.ahci:0']);
    for (const [model, subtype] of [['buslogic', 'buslogic'], ['lsisas1068', 'lsilogicsas']] as const) {
      const layout = { ...web.layout, disks: web.layout.disks.map((d) => ({ ...d, controller: model })) };
      assert.deepEqual(controllers(web.spec, layout), [`6:${subtype}:0`]);
    }
  });

  // ovfreader.cpp, HandleVirtualSystemContent: a CD item's HostResource is read only as ovf:/disk/ID
  // (or ovf://disk/, /disk/); anything else leaves the drive empty. ApplianceImplExport.cpp writes a
  // CD image as a DiskSection entry with the Ecma-119 format, which ApplianceImpl.cpp maps to an ISO.
  it('places CD drives: shipped ISOs as DiskSection images referenced ovf:/disk/, others empty and named in the annotation', () => {
    const shipped = parse(render(devices.spec, devices.layout, withIso(devices.layout)));
    assert.deepEqual(shipped.files.at(-1), { href: 'netinst.iso', id: 'file3' });
    assert.deepEqual(shipped.disks.at(-1), { capacity: 4_194_304, id: 'iso1', fileRef: 'file3', format: ISO_FORMAT });
    assert.equal(ISO_FORMAT, 'http://www.ecma-international.org/publications/standards/Ecma-119.htm');
    const cds = shipped.items.filter((i) => i.get('ResourceType') === '15');
    assert.deepEqual(cds.map((c) => [c.get('HostResource'), c.get('AddressOnParent'), c.get('AutomaticAllocation')]),
      [['ovf:/disk/iso1', '0', 'true'], [undefined, '0', 'false']]);
    assert.ok(!/ovf:\/file\//.test(render(devices.spec, devices.layout, withIso(devices.layout))), 'no ovf:/file/ reference, which VirtualBox drops');
    const outside = render(devices.spec, devices.layout);
    assert.equal(parse(outside).files.length, 2);
    assert.match(outside, /CD drive cd0 is empty; its ISO stays outside the appliance: \/srv\/iso\/debian-12-amd64-netinst.iso/);
  });

  it('maps NICs to VirtualBox\'s attachment names, with MAC and plugged state', () => {
    const { items, networks } = parse(render(devices.spec, devices.layout));
    const nics = items.filter((i) => i.get('ResourceType') === '10');
    assert.deepEqual(nics.map((n) => [n.get('Connection'), n.get('Address'), n.get('AutomaticAllocation'), n.get('ResourceSubType')]),
      [['Bridged', '00:50:56:00:20:01', 'true', 'E1000'], ['HostOnly', undefined, 'false', 'E1000']]);
    assert.deepEqual(networks, ['Bridged', 'HostOnly']);
    assert.deepEqual(parse(render(web.spec, web.layout)).networks, ['NAT']);
  });

  it('refuses what VirtualBox cannot import', () => {
    const second = { ...web.layout.disks[0]!, name: 'hdd1', bus: 1 };
    assert.throws(() => render(web.spec, { ...web.layout, disks: [web.layout.disks[0]!, second] }, applianceOptions({ ...web.layout, disks: [web.layout.disks[0]!, second] })),
      /scsi1: VirtualBox imports one SCSI controller/);
    const nine = Array.from({ length: 9 }, (_, i) => ({ ...NIC, name: `eth${i}`, index: i }));
    assert.throws(() => render({ ...web.spec, nics: nine }, web.layout), /at most 8 NICs/);
    assert.throws(() => render(web.spec, web.layout, { disks: [] }), /no appliance file given for disk hdd0/);
  });

  it('escapes XML', { skip: !hasXmllint && 'xmllint missing' }, () => {
    const ovf = render({ ...web.spec, name: 'a<b>&"c"', os: { ...web.spec.os, label: 'x -- y' } }, web.layout);
    assert.match(ovf, /<vssd:VirtualSystemIdentifier>a&lt;b&gt;&amp;&quot;c&quot;<\/vssd:VirtualSystemIdentifier>/);
    assert.equal(xmllint(ovf).status, 0);
  });
});

describe('guestType', () => {
  it('gives CIM operating system ids from VirtualBox\'s table', () => {
    assert.deepEqual(guestType(web.spec.os), { cim: 96, vbox: 'Debian_64' });
    assert.deepEqual(guestType({ ...web.spec.os, distribution: 'ubuntu' }), { cim: 94, vbox: 'Ubuntu_64' });
    assert.deepEqual(guestType({ ...web.spec.os, distribution: 'rocky', family: 'redhat' }), { cim: 80, vbox: 'RedHat_64' });
    assert.deepEqual(guestType({ ...web.spec.os, family: 'windows', distribution: 'windows', release: 'xp', bits: 32, arch: 'i386' }), { cim: 67, vbox: 'WindowsXP' });
    assert.deepEqual(guestType({ ...web.spec.os, family: 'windows', distribution: 'windows', release: '10' }), { cim: 120, vbox: 'Windows10_64' });
  });
});


describe('renderManifest', () => {
  it('writes one SHA256(FILE)= DIGEST line per file', () => {
    assert.equal(renderManifest([{ name: 'a.ovf', sha256: 'AB'.repeat(32) }, { name: 'a-hdd0.vmdk', sha256: '01'.repeat(32) }]),
      `SHA256(a.ovf)= ${'ab'.repeat(32)}\nSHA256(a-hdd0.vmdk)= ${'01'.repeat(32)}\n`);
    assert.equal(renderManifest([]), '');
  });

  it('refuses names and digests that would break the format', () => {
    assert.throws(() => renderManifest([{ name: 'a\nSHA256(b', sha256: 'a'.repeat(64) }]), /cannot be named/);
    assert.throws(() => renderManifest([{ name: 'a(1).vmdk', sha256: 'a'.repeat(64) }]), /cannot be named/);
    assert.throws(() => renderManifest([{ name: 'a.ovf', sha256: 'abc' }]), /not a SHA-256 digest/);
  });
});

/**
 * The <vbox:Machine> section as a VirtualBox settings document: the element renamed into the
 * settings namespace of VirtualBox-settings.xsd, without the OVF-only ovf:Info and ovf:required.
 */
function settingsDocument(machine: string): string {
  const body = machine
    .replace(/\s*<ovf:Info>[^<]*<\/ovf:Info>/, '')
    .replace('<vbox:Machine ovf:required="false" ', '<Machine ')
    .replace('</vbox:Machine>', '</Machine>');
  return `<?xml version="1.0"?>\n<VirtualBox xmlns="http://www.virtualbox.org/" version="1.16-linux">\n${body}\n</VirtualBox>\n`;
}

function attrs(tag: string): Record<string, string> {
  return Object.fromEntries([...tag.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

function tags(xml: string, name: string): Array<Record<string, string>> {
  return [...xml.matchAll(new RegExp(`<${name}\\b[^>]*>`, 'g'))].map((m) => attrs(m[0]));
}

describe('vbox:Machine', () => {
  const xp = loadCatalogs({ env: {} }).os.find((o) => o.id === 'winxppro')!;
  const cases = [
    ['web', render(web.spec, web.layout)],
    ['devices', render(devices.spec, devices.layout, withIso(devices.layout))],
    ['xp', render({ ...web.spec, os: xp, cpus: 1 }, { ...web.layout, firmware: 'bios' })],
  ] as const;

  it('sits in the VirtualSystem after the hardware, optional to other readers, with an Info (ApplianceImplExport.cpp, i_buildXMLForOneVirtualSystem)', () => {
    for (const [name, ovf] of cases) {
      assert.match(ovf, /<\/VirtualHardwareSection>\n {4}<vbox:Machine ovf:required="false" version="1\.16-linux" /, name);
      assert.match(ovf, /<vbox:Machine [^>]*>\n {6}<ovf:Info>[^<]+<\/ovf:Info>/, `${name}: VMware's reader bails out on a section without Info`);
    }
  });

  it('carries firmware, MAC addresses, cable state and attachment, which the OVF items cannot', () => {
    const webMachine = parse(cases[0][1]).machine!;
    assert.deepEqual(tags(webMachine, 'Firmware'), [{ type: 'EFI' }]);
    assert.deepEqual(tags(webMachine, 'Adapter'), [{ slot: '0', enabled: 'true', MACAddress: '005056001001', cable: 'true', type: '82540EM' }]);
    assert.match(webMachine, /<Adapter [^>]*>\n\s*<NAT\/>/);
    const lab = parse(cases[1][1]).machine!;
    assert.deepEqual(tags(lab, 'Firmware'), [{ type: 'BIOS' }]);
    assert.deepEqual(tags(lab, 'Adapter').map((a) => [a.slot, a.MACAddress, a.cable]), [['0', '005056002001', 'true'], ['1', undefined, 'false']]);
    assert.match(lab, /<BridgedInterface\/>[\s\S]*<HostOnlyInterface\/>/);
    assert.deepEqual(tags(lab, 'Memory'), [{ RAMSize: '2048' }]);
    assert.deepEqual(tags(lab, 'CPU'), [{ count: '4' }]);
    const xpMachine = parse(cases[2][1]).machine!;
    assert.deepEqual(tags(xpMachine, 'Adapter').map((a) => a.type), ['82543GC']);
    assert.deepEqual(tags(xpMachine, 'CPU'), [{ count: '1' }]);
    assert.doesNotMatch(xpMachine, /LongMode|IOAPIC/);
    // The import keeps MACs only with ImportOptions_KeepAllMACs (ApplianceImplImport.cpp, i_importVBoxMachine).
    assert.match(cases[1][1], /--options keepallmacs/);
  });

  // ApplianceImplImport.cpp, i_importVBoxMachine: every DiskSection image (disks and, after
  // interpret(), CD images too) is matched by its vbox:uuid against an <Image uuid> of an attachment;
  // an image no attachment names fails the import ("<vbox:Machine> element in OVF contains a medium
  // attachment for the disk image … but the OVF describes no such image").
  it('attaches every DiskSection image once, by the vbox:uuid the DiskSection gives it', () => {
    for (const [name, ovf] of cases) {
      const { uuids, disks, machine } = parse(ovf);
      assert.equal(uuids.length, disks.length, `${name}: every Disk has a vbox:uuid`);
      const images = tags(machine!, 'Image').map((i) => i.uuid);
      for (const { diskId, uuid } of uuids) {
        assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, `${name}: ${diskId}: lower case, no braces, as Guid::toString() compares`);
        assert.equal(images.filter((i) => i === `{${uuid}}`).length, 1, `${name}: ${diskId} is attached once`);
      }
      assert.equal(images.length, uuids.length, `${name}: no attachment names an image the OVF lacks`);
    }
  });

  it('puts each device where the .vmx puts it: IDE channel as port, master/slave as device; elsewhere the unit as port', () => {
    const lab = parse(cases[1][1]).machine!;
    const controllers = [...lab.matchAll(/<StorageController ([^>]*)>([\s\S]*?)<\/StorageController>/g)].map((m) => {
      const c = attrs(m[1]!);
      return [c.name, c.type, c.PortCount, tags(m[2]!, 'AttachedDevice').map((d) => `${d.type}@${d.port}:${d.device}`)];
    });
    assert.deepEqual(controllers, [
      ['SCSI', 'LsiLogic', '16', ['HardDisk@0:0']],
      ['NVMe', 'NVMe', '1', ['HardDisk@0:0']],
      // cd0 is pos = 1:0, the secondary channel's master.
      ['IDE', 'PIIX4', '2', ['DVD@1:0']],
      ['SATA', 'AHCI', '1', ['DVD@0:0']],
    ]);
  });

  it('gives XP the 82543GC, whose driver XP ships, and other guests the 82540EM (Global.cpp, sOSTypes)', () => {
    assert.equal(vboxAdapterType('WindowsXP'), '82543GC');
    for (const t of ['Debian_64', 'Windows7', 'Windows10_64', 'Windows11_64']) assert.equal(vboxAdapterType(t), '82540EM', t);
  });

  // Rules read from VirtualBox-settings.xsd (src/VBox/Main/xml/, VirtualBox 6.1): TMachine requires
  // name, OSType and a braced TNonNullUUID; TMemory RAMSize 4…2097152; TFirmware, TNetworkAdapterType,
  // TStorageControllerType and TMediumDeviceType are closed lists; MACAddress is 12 hex digits of a
  // unicast address; StorageController requires PortCount. The schema itself is GPL-3.0 and stays out
  // of the repository; with VMGEN_VBOX_SETTINGS_XSD pointing at a copy, the next test validates against it.
  it('follows the settings schema\'s rules', () => {
    const UUID = /^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$/;
    for (const [name, ovf] of cases) {
      const doc = settingsDocument(parse(ovf).machine!);
      const [machine] = tags(doc, 'Machine');
      assert.ok(machine?.name && machine.OSType && UUID.test(machine.uuid ?? ''), `${name}: Machine name, OSType, uuid`);
      for (const m of tags(doc, 'Memory')) assert.ok(Number(m.RAMSize) >= 4 && Number(m.RAMSize) <= 2097152, `${name}: RAMSize`);
      for (const f of tags(doc, 'Firmware')) assert.ok(['BIOS', 'EFI', 'EFI32', 'EFI64', 'EFIDUAL'].includes(f.type!), `${name}: firmware ${f.type}`);
      for (const a of tags(doc, 'Adapter')) {
        assert.ok(['Am79C970A', 'Am79C973', 'Am79C960', '82540EM', '82543GC', '82545EM', 'virtio'].includes(a.type!), `${name}: adapter ${a.type}`);
        assert.ok(a.MACAddress === undefined || /^[0-9A-Fa-f][02468ACEace][0-9A-Fa-f]{10}$/.test(a.MACAddress), `${name}: MAC ${a.MACAddress}`);
      }
      for (const c of tags(doc, 'StorageController')) {
        assert.ok(['AHCI', 'LsiLogic', 'BusLogic', 'PIIX3', 'PIIX4', 'ICH6', 'LsiLogicSas', 'NVMe', 'VirtioSCSI'].includes(c.type!), `${name}: controller ${c.type}`);
        assert.ok(/^\d+$/.test(c.PortCount ?? ''), `${name}: PortCount`);
      }
      for (const d of tags(doc, 'AttachedDevice')) assert.ok(['HardDisk', 'DVD', 'Floppy'].includes(d.type!), `${name}: device ${d.type}`);
      for (const i of tags(doc, 'Image')) assert.match(i.uuid!, UUID, `${name}: image uuid`);
      assert.ok(!/<Machine [^>]*ovf:/.test(doc), `${name}: no OVF attributes left on Machine`);
    }
  });

  const xsd = process.env.VMGEN_VBOX_SETTINGS_XSD;
  it('validates against VirtualBox-settings.xsd', { skip: (!xsd || !hasXmllint) && 'set VMGEN_VBOX_SETTINGS_XSD to a copy of src/VBox/Main/xml/VirtualBox-settings.xsd' }, () => {
    for (const [name, ovf] of cases) {
      const r = spawnSync('xmllint', ['--noout', '--schema', xsd!, '-'], { input: settingsDocument(parse(ovf).machine!), encoding: 'utf8' });
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    }
  });
});

describe('the appliance for VMware\'s ovftool', () => {
  // ovftool knows the hardware families vmx-07 … vmx-21 and refuses "virtualbox-2.2", the type
  // VirtualBox writes (ApplianceImplExport.cpp), unless run with --lax; VirtualBox itself reads the
  // type only for OVFs without vbox:Machine (ApplianceImplImport.cpp, Appliance::interpret).
  it('declares the VMware hardware family the vmware target uses', () => {
    assert.equal(OVF_VIRTUAL_SYSTEM_TYPE, `vmx-${VIRTUAL_HW_VERSION}`);
    const n = Number(/^vmx-(\d+)$/.exec(OVF_VIRTUAL_SYSTEM_TYPE)?.[1]);
    assert.ok(n >= 7 && n <= 21, `${OVF_VIRTUAL_SYSTEM_TYPE} is a family ovftool knows`);
  });
});
