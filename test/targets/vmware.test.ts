import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ResolvedNic, ResolvedSpec } from '../../src/config/resolve.js';
import type { VmLayout } from '../../src/vm/layout.js';
import { VIRTUAL_HW_VERSION, VMX_KEYS_DOCUMENTED, renderVmx, setting, vmControllers } from '../../src/targets/vmware/render.js';
import { assertGolden } from '../helpers/golden.js';
import { VM_CASE_NAMES, diskFiles, vmCase } from './vm-specs.js';

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

const NIC: ResolvedNic = { name: 'eth0', index: 0, link: 'nat', connected: true, mode: 'dhcp', dns: [] };

describe('VMware golden files', () => {
  for (const name of VM_CASE_NAMES) {
    it(`renders ${name}`, () => {
      const { spec, layout } = vmCase(name, 'vmware');
      assertGolden(`vmware/${name}/${spec.name}.vmx`, render(spec, layout));
    });
  }

  it('writes only keys whose documentation VMX_KEYS_DOCUMENTED names', () => {
    for (const name of VM_CASE_NAMES) {
      const { spec } = vmCase(name, 'vmware');
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
    assert.deepEqual(settings(vmx).slice(0, 5), [
      ['.encoding', 'UTF-8'], ['config.version', '8'], ['virtualHW.version', String(VIRTUAL_HW_VERSION)], ['guestOS', 'debian12-64'], ['displayName', 'web1'],
    ]);
    assert.equal(VIRTUAL_HW_VERSION, 19);
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
    assert.equal(value(lab, 'ethernet0.startConnected'), 'TRUE');
    assert.equal(value(lab, 'ethernet0.addressType'), 'static');
    assert.equal(value(lab, 'ethernet0.address'), '00:50:56:00:20:01');
    assert.equal(value(lab, 'ethernet1.connectionType'), 'hostonly');
    assert.equal(value(lab, 'ethernet1.startConnected'), 'FALSE');
    assert.equal(value(lab, 'ethernet1.addressType'), 'generated');
    assert.equal(value(lab, 'ethernet1.address'), undefined);
    assert.equal(value(render(web.spec, web.layout), 'ethernet0.connectionType'), 'nat');
    const windows = { ...web.spec, os: { ...web.spec.os, family: 'windows' as const } };
    assert.equal(value(render(windows, web.layout), 'ethernet0.virtualDev'), 'e1000e');
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
