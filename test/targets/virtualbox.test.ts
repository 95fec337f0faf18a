import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { ResolvedNic, ResolvedSpec } from '../../src/config/resolve.js';
import type { VmLayout } from '../../src/vm/layout.js';
import {
  OVF_VIRTUAL_SYSTEM_TYPE, VMDK_STREAM_OPTIMIZED, guestType, renderManifest, renderOvf, virtualBoxFixups, type OvfOptions,
} from '../../src/targets/virtualbox/render.js';
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
  return { files, disks, items, networks };
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
      const { files, disks, items } = parse(render(spec, layout, { ...applianceOptions(layout), isoFiles: { cd0: 'netinst.iso' } }));
      const hosts = items.map((i) => i.get('HostResource')).filter((h): h is string => h !== undefined);
      for (const f of files) {
        const users = disks.filter((d) => d.fileRef === f.id).length + hosts.filter((h) => h === `ovf:/file/${f.id}`).length;
        assert.equal(users, 1, `${name}: file ${f.id} is used ${users} times`);
      }
      for (const d of disks) assert.equal(hosts.filter((h) => h === `ovf:/disk/${d.id}`).length, 1, `${name}: disk ${d.id}`);
      assert.equal(disks.length, layout.disks.length);
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
    assert.doesNotMatch(ovf, /vbox:Machine/);
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
    // Both IDE channels, or VirtualBox would take the secondary one for the primary.
    assert.deepEqual(controllers(devices.spec, devices.layout), ['6:lsilogic:0', '20:NVMe:0', '5:PIIX4:0', '5:PIIX4:1', '20:AHCI:0']);
    for (const [model, subtype] of [['buslogic', 'buslogic'], ['lsisas1068', 'lsilogicsas']] as const) {
      const layout = { ...web.layout, disks: web.layout.disks.map((d) => ({ ...d, controller: model })) };
      assert.deepEqual(controllers(web.spec, layout), [`6:${subtype}:0`]);
    }
  });

  it('places CD drives: shipped ISOs as files, others empty and named in the annotation', () => {
    const shipped = parse(render(devices.spec, devices.layout, { ...applianceOptions(devices.layout), isoFiles: { cd0: 'netinst.iso' } }));
    assert.deepEqual(shipped.files.at(-1), { href: 'netinst.iso', id: 'file3' });
    const cds = shipped.items.filter((i) => i.get('ResourceType') === '15');
    assert.deepEqual(cds.map((c) => [c.get('HostResource'), c.get('AddressOnParent'), c.get('AutomaticAllocation')]),
      [['ovf:/file/file3', '0', 'true'], [undefined, '0', 'false']]);
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

describe('virtualBoxFixups', () => {
  it('sets after import what a plain OVF cannot: UEFI, MAC addresses, unplugged cables', () => {
    assert.deepEqual(virtualBoxFixups(web.spec, web.layout), ['VBoxManage', 'modifyvm', 'web1', '--firmware', 'efi', '--macaddress1', '005056001001']);
    assert.deepEqual(virtualBoxFixups(devices.spec, devices.layout), ['VBoxManage', 'modifyvm', 'lab1', '--macaddress1', '005056002001', '--cableconnected2', 'off']);
    assert.equal(virtualBoxFixups({ ...devices.spec, nics: [NIC] }, devices.layout), undefined);
    assert.match(render(web.spec, web.layout), /After importing, run: VBoxManage modifyvm web1 --firmware efi --macaddress1 005056001001/);
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
