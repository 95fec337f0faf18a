import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { noItem } from '../helpers/assert-values.js';
import { formatResults, runChecks } from '../../src/verify/checks.js';
import { vmChecks } from '../../src/verify/vm-checks.js';
import type { VmLayout } from '../../src/disks/layout.js';
import { FakeCommunicator } from '../helpers/fake-communicator.js';

/** A UEFI machine with a data disk: ESP, root, /var and swap on hdd0, /srv and a second swap on hdd1. */
const LAYOUT: VmLayout = {
  firmware: 'efi',
  cdDrives: [],
  disks: [
    {
      name: 'hdd0', file: 'web1-hdd0', sizeMiB: 8192, controller: 'sata', bus: 0, unit: 0, table: 'gpt', boot: true,
      partitions: [
        { name: 'esp', kind: 'primary', fs: 'vfat', sizeMiB: 256, mount: '/boot/efi', label: 'ESP', esp: true },
        { name: 'root', kind: 'primary', fs: 'ext4', sizeMiB: 4096, mount: '/' },
        { name: 'var', kind: 'primary', fs: 'xfs', sizeMiB: 2048, mount: '/var' },
        { name: 'swap', kind: 'primary', fs: 'swap', sizeMiB: 512 },
      ],
    },
    {
      name: 'hdd1', file: 'web1-hdd1', sizeMiB: 4096, controller: 'sata', bus: 0, unit: 1, table: 'gpt', boot: false,
      partitions: [
        { name: 'srv', kind: 'primary', fs: 'ext3', sizeMiB: 2048, mount: '/srv' },
        { name: 'swap2', kind: 'primary', fs: 'swap' },
        { name: 'unmounted', kind: 'primary', fs: 'ext4' },
      ],
    },
  ],
};

const findmnt = (target: string): string[] => ['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '--mountpoint', target];
const SWAPON = ['swapon', '--show=NAME,TYPE', '--noheadings'];

function healthyGuest(): FakeCommunicator {
  return new FakeCommunicator()
    .on(findmnt('/'), { stdout: '/dev/vda2 ext4\n' })
    .on(findmnt('/boot/efi'), { stdout: '/dev/vda1 vfat\n' })
    .on(findmnt('/var'), { stdout: '/dev/vda3 xfs\n' })
    .on(findmnt('/srv'), { stdout: '/dev/vdb1 ext3\n' })
    .on(SWAPON, { stdout: '/dev/vda4 partition\n/dev/vdb2 partition\n' });
}

async function lines(layout: VmLayout, comm: FakeCommunicator): Promise<string[]> {
  return formatResults(await runChecks(vmChecks(layout), comm)).trimEnd().split('\n');
}

describe('vmChecks', () => {
  it('checks the root first, then every other mounted partition in layout order, then swap', () => {
    assert.deepEqual(vmChecks(LAYOUT).map((c) => c.name), ['root file system', 'mount /boot/efi', 'mount /var', 'mount /srv', 'swap']);
  });

  it('passes a guest whose mounts and swap match the layout', async () => {
    assert.deepEqual(await lines(LAYOUT, healthyGuest()), [
      'ok    root file system: /dev/vda2 ext4 on /',
      'ok    mount /boot/efi: /dev/vda1 vfat on /boot/efi',
      'ok    mount /var: /dev/vda3 xfs on /var',
      'ok    mount /srv: /dev/vdb1 ext3 on /srv',
      'ok    swap: in use: /dev/vda4, /dev/vdb2',
      'all 5 checks passed',
    ]);
  });

  it('fails a missing mount, a wrong file system, a source that is no partition, and missing swap', async () => {
    const comm = healthyGuest()
      .on(findmnt('/'), { stdout: '/dev/vda2 ext2\n' })
      .on(findmnt('/var'), { exitCode: 1 })
      .on(findmnt('/srv'), { stdout: 'tmpfs tmpfs\n' })
      .on(SWAPON, { stdout: '/dev/vda4 partition\n/swapfile file\n' });
    assert.deepEqual(await lines(LAYOUT, comm), [
      'FAIL  root file system: / is ext2 on /dev/vda2, want ext4',
      'ok    mount /boot/efi: /dev/vda1 vfat on /boot/efi',
      'FAIL  mount /var: nothing is mounted on /var, want xfs from partition var',
      'FAIL  mount /srv: /srv is mounted from tmpfs, not a partition (/dev/…)',
      'FAIL  swap: in use: /dev/vda4; the layout has 2 swap partitions',
      '4 of 5 checks failed',
    ]);
  });

  it('reads the mount the guest sees when another is mounted over it, and accepts ntfs3 for ntfs', async () => {
    const layout: VmLayout = {
      firmware: 'bios', cdDrives: [],
      disks: [{
        name: 'disk0', file: 'm-disk0', sizeMiB: 8192, controller: 'sata', bus: 0, unit: 0, table: 'mbr', boot: true,
        partitions: [{ name: 'root', kind: 'primary', fs: 'ext4', mount: '/' }, { name: 'win', kind: 'primary', fs: 'ntfs', mount: '/mnt/win' }],
      }],
    };
    const comm = new FakeCommunicator()
      .on(findmnt('/'), { stdout: '/dev/sda1 ext4\n' })
      .on(findmnt('/mnt/win'), { stdout: '/dev/sda2 ext4\n/dev/sda2 ntfs3\n' });
    assert.deepEqual(await lines(layout, comm), [
      'ok    root file system: /dev/sda1 ext4 on /',
      'ok    mount /mnt/win: /dev/sda2 ntfs3 on /mnt/win',
      'all 2 checks passed',
    ]);
  });

  it('says when the guest lacks findmnt or swapon, and has no swap check without swap partitions', async () => {
    const layout: VmLayout = { ...LAYOUT, disks: [{ ...LAYOUT.disks[0]!, partitions: LAYOUT.disks[0]!.partitions.filter((p) => p.fs !== 'swap') }] };
    noItem(vmChecks(layout).map((c) => c.name), (name) => name === 'swap');
    const comm = healthyGuest().on(findmnt('/'), { exitCode: 127, stderr: 'sh: 1: findmnt: not found\n' }).on(SWAPON, { exitCode: 127 });
    const out = await lines(LAYOUT, comm);
    assert.equal(out[0], 'FAIL  root file system: findmnt is not installed in the guest');
    assert.equal(out[4], 'FAIL  swap: swapon is not installed in the guest');
  });
});
