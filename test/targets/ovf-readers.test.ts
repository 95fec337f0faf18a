import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { VmLayout } from '../../src/disks/layout.js';
import { renderOvf } from '../../src/targets/virtualbox/render.js';
import { renderVmwareOvf } from '../../src/targets/vmware/ovf.js';
import { VM_CASE_NAMES, vmCase } from './vm-specs.js';

/**
 * What VirtualBox's OVF reader requires of a descriptor, read from src/VBox/Main/xml/ovfreader.cpp
 * (VirtualBox 6.1 and 7.1), applied to both appliances vmgen writes: VirtualBox's own, and the
 * VMware one, which VirtualBox imports as well. Each check names the function it follows; an
 * OVFLogicError there is a failed import.
 */
interface Item { required: boolean; line: string; get(name: string): string | undefined }

function readItems(ovf: string): Item[] {
  return [...ovf.matchAll(/<Item( ovf:required="false")?>\n([\s\S]*?)\n\s*<\/Item>/g)].map((m) => {
    const fields = [...m[2]!.matchAll(/<rasd:(\w+)>([^<]*)<\/rasd:\1>/g)].map((f): [string, string] => [f[1]!, f[2]!]);
    return { required: m[1] === undefined, line: m[2]!, get: (n: string) => fields.find(([k]) => k === n)?.[1] };
  });
}

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
}

/** ResourceTypes HandleVirtualSystemContent handles; any other must be ovf:required="false". */
const HANDLED = new Set([3, 4, 5, 6, 10, 14, 15, 17, 20, 23, 35]);
const MEMORY_UNITS = ['MegaBytes', 'MB', 'byte * 2^20', 'GigaBytes', 'GB', 'byte * 2^30'];
const OTHER_STORAGE = ['ahci', 'vmware.sata.ahci', 'virtioscsi', 'virtio-scsi', 'nvme', 'vmware.nvme.controller'];

function assertVirtualBoxReads(ovf: string, what: string): void {
  // OVFReader::parse: the root is Envelope, in the OVF 1.0 (or 2.0) namespace.
  assert.match(ovf, /<Envelope [^>]*xmlns="http:\/\/schemas\.dmtf\.org\/ovf\/envelope\/1"/, `${what}: Envelope namespace`);
  // HandleDiskSection: diskId, format and capacity are required; a fileRef must name a References/File with an href.
  const files = new Map([...ovf.matchAll(/<File ([^>]*)\/>/g)].map((m) => [attr(m[1]!, 'ovf:id'), attr(m[1]!, 'ovf:href')]));
  const disks = [...ovf.matchAll(/<Disk ([^>]*)\/>/g)].map((m) => m[1]!);
  const diskIds = new Set<string>();
  for (const d of disks) {
    const id = attr(d, 'ovf:diskId');
    assert.ok(id && attr(d, 'ovf:format') && /^\d+$/.test(attr(d, 'ovf:capacity') ?? ''), `${what}: Disk ${d} lacks diskId, format or capacity`);
    const ref = attr(d, 'ovf:fileRef');
    assert.ok(ref === undefined || files.get(ref), `${what}: Disk ${id} names no File with an href`);
    diskIds.add(id);
  }
  const items = readItems(ovf);
  const controllers = new Set<string>();
  for (const i of items) {
    const type = Number(i.get('ResourceType'));
    // VirtualHardwareItem::_checkConsistencyAndCompliance: a ResourceType always, an InstanceID on controllers.
    assert.ok(type > 0, `${what}: item without ResourceType: ${i.line}`);
    assert.ok(HANDLED.has(type) || !i.required, `${what}: ResourceType ${type} is unknown to VirtualBox and not optional`);
    if ([5, 6, 20].includes(type)) {
      assert.ok(i.get('InstanceID'), `${what}: controller without InstanceID`);
      controllers.add(i.get('InstanceID')!);
    }
    if (type === 3) assert.ok(Number(i.get('VirtualQuantity')) < 65535, `${what}: CPU count`);
    if (type === 4) assert.ok(MEMORY_UNITS.includes(i.get('AllocationUnits') ?? ''), `${what}: memory unit ${i.get('AllocationUnits')}`);
    if (type === 20) assert.ok(OTHER_STORAGE.includes((i.get('ResourceSubType') ?? '').toLowerCase()), `${what}: storage subtype ${i.get('ResourceSubType')}`);
  }
  for (const i of items.filter((x) => ['15', '17'].includes(x.get('ResourceType')!))) {
    // The second loop: a disk or CD item's Parent must be a controller; a disk's HostResource one of the DiskSection's disks.
    assert.ok(controllers.has(i.get('Parent')!), `${what}: ${i.get('ElementName')} has no controller`);
    const host = i.get('HostResource');
    const id = /^(?:ovf:\/\/disk\/|ovf:\/disk\/|\/disk\/)(.+)$/.exec(host ?? '')?.[1];
    if (i.get('ResourceType') === '17') assert.ok(id && diskIds.has(id), `${what}: disk item names ${host}`);
  }
  // OperatingSystemSection: a numeric ovf:id.
  assert.match(ovf, /<OperatingSystemSection ovf:id="\d+"/, `${what}: OperatingSystemSection id`);
}

function applianceDisks(layout: VmLayout) {
  return layout.disks.map((d) => ({ name: d.name, file: `${d.file}.vmdk`, capacityBytes: d.sizeMiB * 1024 * 1024, fileBytes: 1 }));
}

describe('VirtualBox\'s OVF reader (ovfreader.cpp)', () => {
  for (const name of VM_CASE_NAMES) {
    it(`reads the VirtualBox appliance of ${name}, with its CD image as a disk`, () => {
      const { spec, layout } = vmCase(name, 'virtualbox');
      const ovf = renderOvf(spec, layout, { disks: applianceDisks(layout), isoFiles: { cd0: 'netinst.iso' }, isoBytes: { 'netinst.iso': 2048 } });
      assertVirtualBoxReads(ovf, `virtualbox ${name}`);
      // A CD item's HostResource must be a DiskSection disk too, or the reader leaves the drive empty.
      for (const cd of readItems(ovf).filter((i) => i.get('ResourceType') === '15' && i.get('HostResource'))) {
        assert.match(cd.get('HostResource')!, /^ovf:\/disk\/iso\d+$/, `${name}: CD image reachable`);
      }
    });

    it(`reads the VMware appliance of ${name}`, () => {
      const { spec, layout } = vmCase(name, 'vmware');
      assertVirtualBoxReads(renderVmwareOvf(spec, layout, { disks: applianceDisks(layout), isoFiles: { cd0: 'netinst.iso' } }), `vmware ${name}`);
    });
  }

  it('would notice a descriptor it refuses', () => {
    const { spec, layout } = vmCase('devices', 'virtualbox');
    const ovf = renderOvf(spec, layout, { disks: applianceDisks(layout) });
    assert.throws(() => assertVirtualBoxReads(ovf.replace('vmware.sata.ahci', 'vmware.sata.other'), 'bad'), /storage subtype/);
    assert.throws(() => assertVirtualBoxReads(ovf.replace('ovf:/disk/vmdisk2', 'ovf:/file/file2'), 'bad'), /disk item names/);
    assert.throws(() => assertVirtualBoxReads(ovf.replace('MegaBytes', 'KiloBytes'), 'bad'), /memory unit/);
  });
});
