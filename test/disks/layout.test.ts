import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findOs, loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import type { VmConfig } from '../../src/config/model.js';
import { DEFAULT_DISK_MIB, ESP_MIB, resolveVmLayout } from '../../src/disks/layout.js';
import { planPartitions } from '../../src/disks/partition-plan.js';
import { convertArgv, vmdkAdapter } from '../../src/targets/vm/common.js';

const catalogs = loadCatalogs();
const ROOT = join(import.meta.dirname, '..', '..');

function config(text: string): VmConfig {
  const r = loadConfig(text, { catalogs });
  assert.ok(r.config, JSON.stringify(r.diagnostics));
  return r.config;
}

const minimal = (extra = '', os = 'debian12-64') => `[hardware]\n    vm_id = m1\n    os = ${os}\n${extra}`;

describe('resolveVmLayout', () => {
  it('gives a machine without disks one default disk with a root file system', () => {
    const c = config(minimal('    firmware = bios\n'));
    const layout = resolveVmLayout(c, findOs(catalogs, 'debian12-64')!, 'm1');
    assert.equal(layout.firmware, 'bios');
    assert.deepEqual(layout.disks.map((d) => [d.name, d.file, d.sizeMiB, d.controller, d.bus, d.unit, d.table, d.boot]),
      [['disk0', 'm1-disk0', DEFAULT_DISK_MIB, 'pvscsi', 0, 0, 'mbr', true]]);
    assert.deepEqual(layout.disks[0]!.partitions, [{ name: 'root', kind: 'primary', fs: 'ext4', mount: '/' }]);
  });

  it('adds an EFI system partition first on the boot disk for UEFI, with a GPT', () => {
    const c = config(readFileSync(join(ROOT, 'examples', 'debian-web.conf'), 'utf8'));
    const layout = resolveVmLayout(c, findOs(catalogs, 'debian12-64')!, 'web1');
    assert.equal(layout.firmware, 'efi');
    const disk = layout.disks[0]!;
    assert.equal(disk.table, 'gpt');
    assert.deepEqual(disk.partitions.map((p) => [p.name, p.fs, p.sizeMiB, p.mount]),
      [['esp', 'vfat', ESP_MIB, '/boot/efi'], ['root', 'ext4', 3072, '/'], ['swap', 'swap', undefined, undefined]]);
  });

  it('keeps explicit positions and fills the others around them, SCSI unit 7 excluded', () => {
    const disks = ['    [[hdds]]',
      ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `        [[[d${i}]]]\n            size = 1GB\n            type = lsilogic${i === 0 ? '\n            pos = 0:3' : ''}`),
      '    [[cd_drives]]', '        [[[cd0]]]', '            type = ide'].join('\n');
    const layout = resolveVmLayout(config(minimal(`    firmware = bios\n${disks}\n`)), findOs(catalogs, 'debian12-64')!, 'm1');
    assert.deepEqual(layout.disks.map((d) => `${d.bus}:${d.unit}`), ['0:3', '0:0', '0:1', '0:2', '0:4', '0:5', '0:6', '0:8']);
    assert.deepEqual(layout.cdDrives.map((c) => [c.controller, c.bus, c.unit]), [['ide', 0, 0]]);
  });

  it('maps the generic scsi controller to LSI Logic and takes the OS default when none is given', () => {
    const c = config(minimal('    [[hdds]]\n        [[[a]]]\n            size = 1GB\n            type = scsi\n            [[[[partitions]]]]\n                [[[[[c]]]]]\n                    fs = ntfs\n'
      + '        [[[b]]]\n            size = 1GB\n[config]\n    root_passwd = x\n', 'winxppro'));
    const layout = resolveVmLayout(c, findOs(catalogs, 'winxppro')!, 'xp');
    assert.deepEqual(layout.disks.map((d) => d.controller), ['lsilogic', 'ide']);
  });
});

describe('convertArgv', () => {
  it('converts raw to a VMware disk with its subformat and adapter', () => {
    assert.deepEqual(convertArgv('/w/a.raw', '/w/a.vmdk', 'vmdk', { subformat: 'streamOptimized', adapter: 'lsilogic' }),
      ['qemu-img', 'convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized,adapter_type=lsilogic', '/w/a.raw', '/w/a.vmdk']);
    assert.deepEqual(convertArgv('/w/a.raw', '/w/a.qcow2', 'qcow2'), ['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', '/w/a.raw', '/w/a.qcow2']);
  });
  it('gives VMware the adapter type its descriptor knows', () => {
    assert.deepEqual((['ide', 'buslogic', 'lsilogic', 'pvscsi', 'sata', 'nvme'] as const).map(vmdkAdapter), ['ide', 'buslogic', 'lsilogic', 'lsilogic', 'lsilogic', 'lsilogic']);
  });
});

describe('logical partitions choose the partition table (issue 13, item 9)', () => {
  const logicalDisk = (fw: string, table = '') => config(minimal(`    firmware = ${fw}\n    [[hdds]]\n        [[[hdd0]]]\n            size = 8GB\n${table}            [[[[partitions]]]]\n`
    + '                [[[[[root]]]]]\n                    fs = ext4\n                    size = 4GB\n                    mount = /\n'
    + '                [[[[[home]]]]]\n                    type = logical\n                    fs = ext4\n                    size = 2GB\n                    mount = /home\n'
    + '                [[[[[swap]]]]]\n                    type = logical\n                    fs = swap\n'));

  // UEFI Specification 2.10, section 5.2.1 "Legacy Master Boot Record": UEFI firmware reads MBR
  // disks too, and OSType 0xEF marks an EFI system partition there (table 5-2), so UEFI boots this disk.
  it('a disk with logical partitions gets an MBR under UEFI too, the ESP a primary partition of type 0xEF', () => {
    const layout = resolveVmLayout(logicalDisk('efi'), findOs(catalogs, 'debian12-64')!, 'm1');
    const disk = layout.disks[0]!;
    assert.equal(disk.table, 'mbr', 'not GPT, which has no logical partitions');
    assert.deepEqual(disk.partitions.map((p) => [p.name, p.kind]), [['esp', 'primary'], ['root', 'primary'], ['home', 'logical'], ['swap', 'logical']]);
    assert.deepEqual(planPartitions(disk, 'efi').map((p) => [p.number, p.partition?.name ?? 'extended', p.type]),
      [[1, 'esp', 'ef'], [2, 'root', '83'], [3, 'extended', '5'], [5, 'home', '83'], [6, 'swap', '82']]);
  });

  it('without logical partitions UEFI keeps GPT, BIOS keeps MBR, and an explicit table wins', () => {
    const os = findOs(catalogs, 'debian12-64')!;
    assert.equal(resolveVmLayout(config(minimal('    firmware = efi\n    [[hdds]]\n        [[[hdd0]]]\n            size = 8GB\n')), os, 'm1').disks[0]!.table, 'gpt');
    assert.equal(resolveVmLayout(logicalDisk('bios'), os, 'm1').disks[0]!.table, 'mbr');
    assert.equal(resolveVmLayout(logicalDisk('efi', '            table = mbr\n'), os, 'm1').disks[0]!.table, 'mbr');
  });

  it('an explicit GPT with logical partitions is refused at its table line, not changed', () => {
    const text = minimal('    firmware = efi\n    [[hdds]]\n        [[[hdd0]]]\n            size = 8GB\n            table = gpt\n            [[[[partitions]]]]\n'
      + '                [[[[[root]]]]]\n                    type = logical\n                    fs = ext4\n');
    const d = loadConfig(text, { catalogs }).diagnostics.find((x) => x.code === 'CFG_LOGICAL_GPT');
    assert.equal(d?.line, text.split('\n').findIndex((l) => l.includes('table = gpt')) + 1, JSON.stringify(d));
  });
});
