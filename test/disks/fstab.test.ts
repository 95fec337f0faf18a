import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseUuids, renderVmFstab } from '../../src/disks/fstab.js';
import type { VmDisk, VmLayout, VmPartition } from '../../src/disks/layout.js';

function disk(name: string, partitions: VmPartition[], boot = false): VmDisk {
  return { name, file: `m-${name}`, sizeMiB: 8192, controller: 'sata', bus: 0, unit: 0, table: 'gpt', partitions, boot };
}

const layout: VmLayout = {
  firmware: 'efi',
  cdDrives: [],
  disks: [
    disk('hdd0', [
      { name: 'esp', kind: 'primary', fs: 'vfat', sizeMiB: 256, mount: '/boot/efi', label: 'ESP', esp: true },
      { name: 'root', kind: 'primary', fs: 'ext4', sizeMiB: 4096, mount: '/' },
      { name: 'swap', kind: 'primary', fs: 'swap', sizeMiB: 512 },
      { name: 'var', kind: 'primary', fs: 'xfs', mount: '/var' },
    ], true),
    disk('hdd1', [
      { name: 'win', kind: 'primary', fs: 'ntfs', sizeMiB: 1024, mount: '/mnt/win' },
      { name: 'raw', kind: 'primary', fs: 'ext4', sizeMiB: 1024 },
      { name: 'log', kind: 'primary', fs: 'ext3', mount: '/var/log' },
    ]),
  ],
};

describe('chooseUuids', () => {
  it('gives every partition an id in the form blkid prints for its file system', () => {
    const ids = chooseUuids(layout, 'seed');
    assert.deepEqual(Object.keys(ids), ['hdd0/esp', 'hdd0/root', 'hdd0/swap', 'hdd0/var', 'hdd1/win', 'hdd1/raw', 'hdd1/log']);
    assert.match(ids['hdd0/esp']!, /^[0-9A-F]{4}-[0-9A-F]{4}$/);
    assert.match(ids['hdd1/win']!, /^[0-9A-F]{16}$/);
    for (const key of ['hdd0/root', 'hdd0/swap', 'hdd0/var', 'hdd1/raw', 'hdd1/log']) {
      assert.match(ids[key]!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, key);
    }
    assert.equal(new Set(Object.values(ids)).size, 7, 'no two partitions share an id');
  });

  it('is the same for the same seed and differs otherwise', () => {
    assert.deepEqual(chooseUuids(layout, 'a'), chooseUuids(layout, 'a'));
    assert.notDeepEqual(chooseUuids(layout, 'a'), chooseUuids(layout, 'b'));
    assert.notDeepEqual(chooseUuids(layout), chooseUuids(layout), 'without a seed, a random one');
  });
});

describe('renderVmFstab', () => {
  it('mounts by UUID, parents first, root checked first, swap last, unmounted partitions left out', () => {
    const ids = chooseUuids(layout, 'fixed');
    assert.equal(renderVmFstab(layout, ids), [
      '# /etc/fstab written by vmgen: file systems by UUID, so disk order and controller do not matter.',
      '# <file system> <mount point> <type> <options> <dump> <pass>',
      `UUID=${ids['hdd0/root']} / ext4 errors=remount-ro 0 1`,
      `UUID=${ids['hdd0/var']} /var xfs defaults 0 2`,
      `UUID=${ids['hdd0/esp']} /boot/efi vfat umask=0077 0 2`,
      `UUID=${ids['hdd1/win']} /mnt/win ntfs-3g defaults,nofail 0 0`,
      `UUID=${ids['hdd1/log']} /var/log ext3 defaults 0 2`,
      `UUID=${ids['hdd0/swap']} none swap sw 0 0`,
      '',
    ].join('\n'));
  });

  it('takes the ids it is given, as the executor got them from mkfs', () => {
    const ids = { ...chooseUuids(layout, 'x'), 'hdd0/root': '11111111-2222-4333-8444-555555555555', 'hdd0/esp': 'ABCD-0123' };
    const text = renderVmFstab(layout, ids);
    assert.match(text, /^UUID=11111111-2222-4333-8444-555555555555 \/ ext4 /m);
    assert.match(text, /^UUID=ABCD-0123 \/boot\/efi vfat umask=0077 0 2$/m);
  });

  it('does not use errors=remount-ro, an ext option, for an xfs root', () => {
    const xfs: VmLayout = { firmware: 'bios', cdDrives: [], disks: [disk('d', [{ name: 'root', kind: 'primary', fs: 'xfs', mount: '/' }], true)] };
    assert.match(renderVmFstab(xfs, { 'd/root': 'u' }), /^UUID=u \/ xfs defaults 0 1$/m);
  });

  it('fails on a partition without an id rather than writing an fstab that cannot boot', () => {
    assert.throws(() => renderVmFstab(layout, {}), /no file system id for hdd0\/esp/);
  });
});
