import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { VmgenError } from '../../src/errors.js';
import { run } from '../../src/exec/run.js';
import { buildDiskImages, mkfsArgv, type BuiltDiskImage } from '../../src/disks/disk-image.js';
import type { VmDisk, VmLayout, VmPartition } from '../../src/disks/layout.js';

const FAKE_EFI = 'not really systemd-boot, but the guest copy\n';
const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

/** A root file system with just enough to check: a kernel, an owner the host does not have, a link. */
function fakeRootfs(dir: string): string {
  const root = join(dir, 'rootfs');
  for (const d of ['boot/efi/EFI/vendor', 'etc', 'home/caesar', 'share', 'srv', 'usr/lib/systemd/boot/efi']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'boot/vmlinuz-6.1.0-9-amd64'), 'old kernel');
  writeFileSync(join(root, 'boot/vmlinuz-6.1.0-10-amd64'), 'kernel');
  writeFileSync(join(root, 'boot/initrd.img-6.1.0-10-amd64'), 'initrd');
  writeFileSync(join(root, 'boot/efi/EFI/vendor/shim.cfg'), 'from the guest ESP');
  writeFileSync(join(root, 'usr/lib/systemd/boot/efi/systemd-bootx64.efi'), FAKE_EFI);
  writeFileSync(join(root, 'etc/hostname'), 'fake\n');
  writeFileSync(join(root, 'home/caesar/notes'), 'alesia', { mode: 0o640 });
  chownSync(join(root, 'home/caesar/notes'), 1234, 5678);
  writeFileSync(join(root, 'srv/data'), 'on the second disk');
  writeFileSync(join(root, 'share/readme.txt'), 'on a FAT data partition');
  symlinkSync('hostname', join(root, 'etc/hostname.link'));
  return root;
}

function disk(name: string, table: VmDisk['table'], sizeMiB: number, partitions: VmPartition[], boot: boolean): VmDisk {
  return { name, file: `m1-${name}`, sizeMiB, controller: 'sata', bus: 0, unit: 0, table, partitions, boot };
}

interface Built {
  images: BuiltDiskImage[];
  deferred: Array<() => Promise<void> | void>;
  logs: string[];
}

async function build(layout: VmLayout, rootfs: string, workDir: string): Promise<Built> {
  const deferred: Built['deferred'] = [];
  const logs: string[] = [];
  const images = await buildDiskImages({
    layout, rootfs, workDir, signal: new AbortController().signal, log: (l) => logs.push(l), defer: (fn) => deferred.push(fn),
  });
  return { images, deferred, logs };
}

interface SfdiskPartition { start: number; size: number; type: string; bootable?: boolean }

async function partitionsOf(image: string): Promise<SfdiskPartition[]> {
  const json = JSON.parse((await run(['sfdisk', '--json', image])).stdout) as { partitiontable: { partitions: SfdiskPartition[] } };
  return json.partitiontable.partitions;
}

/** What blkid finds at a partition's offset in the image, without a loop device. */
async function probe(image: string, p: SfdiskPartition): Promise<Record<string, string>> {
  const out = (await run(['blkid', '--probe', '--output', 'export', '--offset', String(p.start * 512), '--size', String(p.size * 512), image])).stdout;
  return Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** Reads files from a partition of the image through a read-only loop mount that goes with the umount. */
async function readFromPartition<T>(image: string, p: SfdiskPartition, mnt: string, read: (dir: string) => T): Promise<T> {
  mkdirSync(mnt, { recursive: true });
  await run(['mount', '-o', `ro,loop,offset=${p.start * 512},sizelimit=${p.size * 512}`, image, mnt]);
  try {
    return read(mnt);
  } finally {
    await run(['umount', mnt]);
  }
}

/** No loop device on any image, no mount under the work directory, no leftover scratch directory. */
async function assertReleased(workDir: string): Promise<void> {
  for (const name of readdirSync(workDir)) {
    assert.match(name, /\.raw$/, `only images are left in ${workDir}`);
    assert.equal((await run(['losetup', '--associated', join(workDir, name)])).stdout, '', `${name} has no loop device left`);
  }
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1]?.startsWith(workDir));
  assert.deepEqual(mounts, []);
}

const notRoot = process.getuid?.() !== 0 ? 'needs root (loop devices and mounts)' : false;

describe('buildDiskImages', { skip: notRoot }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-disk-'));
  const rootfs = fakeRootfs(dir);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('BIOS, MBR: partitions, file systems by the chosen ids, fstab, extlinux and syslinux boot code', async () => {
    const workDir = join(dir, 'bios');
    mkdirSync(workDir);
    const layout: VmLayout = {
      firmware: 'bios', cdDrives: [], disks: [
        disk('hdd0', 'mbr', 64, [
          { name: 'root', kind: 'primary', fs: 'ext4', sizeMiB: 40, mount: '/', label: 'root' },
          { name: 'swap', kind: 'logical', fs: 'swap', sizeMiB: 8 },
          { name: 'home', kind: 'logical', fs: 'ext3', mount: '/home' },
        ], true),
        disk('hdd1', 'gpt', 40, [
          { name: 'win', kind: 'primary', fs: 'ntfs', sizeMiB: 8, label: 'win' },
          { name: 'share', kind: 'primary', fs: 'vfat', sizeMiB: 8, mount: '/share' },
          { name: 'data', kind: 'primary', fs: 'ext2', mount: '/srv' },
        ], false),
      ],
    };
    const { images, deferred } = await build(layout, rootfs, workDir);
    await assertReleased(workDir);
    assert.deepEqual(images.map((i) => [i.disk, i.path]), [['hdd0', join(workDir, 'm1-hdd0.raw')], ['hdd1', join(workDir, 'm1-hdd1.raw')]]);
    const [hdd0, hdd1] = images as [BuiltDiskImage, BuiltDiskImage];
    assert.equal(statSync(hdd0.path).size, 64 * 1024 * 1024);

    const parts = await partitionsOf(hdd0.path);
    assert.deepEqual(parts.map((p) => [p.type, p.bootable ?? false]), [['83', true], ['5', false], ['82', false], ['83', false]]);
    const [root, , swap, home] = parts as [SfdiskPartition, SfdiskPartition, SfdiskPartition, SfdiskPartition];
    const [win, share, data] = await partitionsOf(hdd1.path) as [SfdiskPartition, SfdiskPartition, SfdiskPartition];
    const probes = [
      await probe(hdd0.path, root), await probe(hdd0.path, swap), await probe(hdd0.path, home),
      await probe(hdd1.path, win), await probe(hdd1.path, share), await probe(hdd1.path, data),
    ];
    assert.deepEqual(probes.map((b) => [b.TYPE, b.UUID, b.LABEL]), [
      ['ext4', hdd0.uuids['hdd0/root'], 'root'], ['swap', hdd0.uuids['hdd0/swap'], undefined], ['ext3', hdd0.uuids['hdd0/home'], undefined],
      ['ntfs', hdd1.uuids['hdd1/win'], 'win'], ['vfat', hdd1.uuids['hdd1/share'], undefined], ['ext2', hdd1.uuids['hdd1/data'], undefined],
    ]);
    const shared = await run(['mtype', '-i', `${hdd1.path}@@${share.start * 512}`, '::/readme.txt'], { env: MTOOLS_ENV });
    assert.equal(shared.stdout, 'on a FAT data partition', 'FAT mount points are filled with mtools');

    const mbr = readFileSync(hdd0.path).subarray(0, 512);
    const syslinuxMbr = ['/usr/lib/syslinux/mbr/mbr.bin', '/usr/lib/EXTLINUX/mbr.bin'].find((p) => existsSync(p))!;
    assert.deepEqual(mbr.subarray(0, 440), readFileSync(syslinuxMbr).subarray(0, 440), 'syslinux boot code in the first 440 bytes');
    assert.deepEqual([mbr[510], mbr[511]], [0x55, 0xaa], 'the partition table survived');

    const seen = await readFromPartition(hdd0.path, root, join(dir, 'look'), (m) => ({
      fstab: readFileSync(join(m, 'etc/fstab'), 'utf8'),
      extlinux: readFileSync(join(m, 'boot/extlinux/extlinux.conf'), 'utf8'),
      ldlinux: existsSync(join(m, 'boot/extlinux/ldlinux.sys')),
      link: existsSync(join(m, 'etc/hostname.link')) && readFileSync(join(m, 'etc/hostname.link'), 'utf8'),
      homeIsEmpty: readdirSync(join(m, 'home')).length === 0,
      shareIsEmpty: readdirSync(join(m, 'share')).length === 0,
    }));
    assert.match(seen.fstab, new RegExp(`^UUID=${hdd0.uuids['hdd0/root']} / ext4 errors=remount-ro 0 1$`, 'm'));
    assert.match(seen.fstab, new RegExp(`^UUID=${hdd0.uuids['hdd0/home']} /home ext3 defaults 0 2$`, 'm'));
    assert.match(seen.fstab, new RegExp(`^UUID=${hdd1.uuids['hdd1/data']} /srv ext2 defaults 0 2$`, 'm'));
    assert.match(seen.fstab, new RegExp(`^UUID=${hdd0.uuids['hdd0/swap']} none swap sw 0 0$`, 'm'));
    assert.match(seen.extlinux, /LINUX \/boot\/vmlinuz-6\.1\.0-10-amd64\n {2}INITRD \/boot\/initrd\.img-6\.1\.0-10-amd64\n/);
    assert.match(seen.extlinux, new RegExp(`APPEND root=UUID=${hdd0.uuids['hdd0/root']} ro `));
    assert.equal(seen.ldlinux, true);
    assert.equal(seen.link, 'fake\n');
    assert.equal(seen.homeIsEmpty, true, '/home went to its own partition');
    assert.equal(seen.shareIsEmpty, true, '/share went to its FAT partition');
    assert.match(seen.fstab, new RegExp(`^UUID=${hdd1.uuids['hdd1/share']} /share vfat defaults 0 2$`, 'm'));

    const notes = await readFromPartition(hdd0.path, home, join(dir, 'look'), (m) => statSync(join(m, 'caesar/notes')));
    assert.deepEqual([notes.uid, notes.gid, notes.mode & 0o777], [1234, 5678, 0o640], 'numeric owners and modes kept');
    const srv = await readFromPartition(hdd1.path, data, join(dir, 'look'), (m) => readFileSync(join(m, 'data'), 'utf8'));
    assert.equal(srv, 'on the second disk');
    for (const fn of deferred) await fn();
  });

  it('UEFI, GPT: an ESP written with mtools holds systemd-boot from the guest, its loader entry, kernel and initrd', async () => {
    const workDir = join(dir, 'efi');
    mkdirSync(workDir);
    const layout: VmLayout = {
      firmware: 'efi', cdDrives: [], disks: [disk('hdd0', 'gpt', 100, [
        { name: 'esp', kind: 'primary', fs: 'vfat', sizeMiB: 40, mount: '/boot/efi', label: 'ESP', esp: true },
        { name: 'root', kind: 'primary', fs: 'ext4', mount: '/' },
      ], true)],
    };
    const { images, deferred } = await build(layout, rootfs, workDir);
    await assertReleased(workDir);
    const [image] = images as [BuiltDiskImage];
    const [esp, root] = await partitionsOf(image.path) as [SfdiskPartition, SfdiskPartition];
    assert.deepEqual(await probe(image.path, esp).then((b) => [b.TYPE, b.VERSION, b.UUID, b.LABEL]), ['vfat', 'FAT32', image.uuids['hdd0/esp'], 'ESP']);
    assert.equal(readFileSync(image.path).subarray(0, 440).every((b) => b === 0), true, 'no BIOS boot code for UEFI');

    const at = `${image.path}@@${esp.start * 512}`;
    const mdir = async (path: string): Promise<string> => (await run(['mdir', '-b', '-i', at, path], { env: MTOOLS_ENV })).stdout;
    const mtype = async (path: string): Promise<string> => (await run(['mtype', '-i', at, path], { env: MTOOLS_ENV })).stdout;
    assert.deepEqual((await mdir('::/')).trim().split('\n').sort(),
      ['::/EFI/', '::/initrd.img-6.1.0-10-amd64', '::/loader/', '::/vmlinuz-6.1.0-10-amd64']);
    assert.equal(await mtype('::/EFI/BOOT/BOOTX64.EFI'), FAKE_EFI, 'the guest\'s systemd-boot, not the host\'s');
    assert.equal(await mtype('::/EFI/systemd/systemd-bootx64.efi'), FAKE_EFI);
    assert.equal(await mtype('::/EFI/vendor/shim.cfg'), 'from the guest ESP');
    assert.equal(await mtype('::/loader/loader.conf'), 'default vmgen.conf\ntimeout 0\nconsole-mode keep\neditor no\n');
    const entry = await mtype('::/loader/entries/vmgen.conf');
    assert.match(entry, /^linux \/vmlinuz-6\.1\.0-10-amd64\ninitrd \/initrd\.img-6\.1\.0-10-amd64\n/m);
    assert.match(entry, new RegExp(`^options root=UUID=${image.uuids['hdd0/root']} ro console=tty0 console=ttyS0,115200 net.ifnames=0$`, 'm'));
    assert.equal(await mtype('::/vmlinuz-6.1.0-10-amd64'), 'kernel');

    const seen = await readFromPartition(image.path, root, join(dir, 'look'), (m) => ({
      fstab: readFileSync(join(m, 'etc/fstab'), 'utf8'),
      espDir: readdirSync(join(m, 'boot/efi')),
      extlinux: existsSync(join(m, 'boot/extlinux')),
    }));
    assert.match(seen.fstab, new RegExp(`^UUID=${image.uuids['hdd0/esp']} /boot/efi vfat umask=0077 0 2$`, 'm'));
    assert.deepEqual(seen.espDir, [], 'the ESP content went to the ESP, not below the mount point');
    assert.equal(seen.extlinux, false);
    for (const fn of deferred) await fn();
  });

  async function assertFailsClean(name: string, layout: VmLayout, expected: RegExp | ((err: unknown) => boolean)): Promise<void> {
    const workDir = join(dir, name);
    mkdirSync(workDir);
    const deferred: Array<() => Promise<void> | void> = [];
    await assert.rejects(buildDiskImages({ layout, rootfs, workDir, signal: new AbortController().signal, log: () => {}, defer: (fn) => deferred.push(fn) }), expected);
    await assertReleased(workDir);
    for (const fn of deferred) await fn(); // what the pipeline runs afterwards: nothing left to fail
  }

  it('leaves no loop device when mkfs fails (xfs on a partition too small for it)', async () => {
    await assertFailsClean('mkfs-fails', {
      firmware: 'bios', cdDrives: [], disks: [
        disk('hdd0', 'mbr', 64, [{ name: 'root', kind: 'primary', fs: 'ext4', mount: '/' }], true),
        disk('hdd1', 'mbr', 64, [{ name: 'big', kind: 'primary', fs: 'xfs', mount: '/big' }], false),
      ],
    }, (err: unknown) => err instanceof VmgenError && /cannot make xfs on hdd1\/big/.test(err.message));
  });

  it('stops when cancelled and releases what it had attached', async () => {
    const workDir = join(dir, 'cancelled');
    mkdirSync(workDir);
    const ac = new AbortController();
    const deferred: Array<() => Promise<void> | void> = [];
    const layout: VmLayout = { firmware: 'bios', cdDrives: [], disks: [disk('hdd0', 'mbr', 64, [{ name: 'root', kind: 'primary', fs: 'ext4', mount: '/' }], true)] };
    const log = (line: string): void => {
      if (line.startsWith('attached')) ac.abort(new Error('user cancelled'));
    };
    await assert.rejects(buildDiskImages({ layout, rootfs, workDir, signal: ac.signal, log, defer: (fn) => deferred.push(fn) }));
    await assertReleased(workDir);
    for (const fn of deferred) await fn();
  });

  it('leaves no mount and no loop device when the copy fails (a root file system that does not fit)', async () => {
    writeFileSync(join(rootfs, 'srv/big'), Buffer.alloc(12 * 1024 * 1024, 1));
    try {
      await assertFailsClean('copy-fails', {
        firmware: 'bios', cdDrives: [], disks: [disk('hdd0', 'mbr', 10, [{ name: 'root', kind: 'primary', fs: 'ext4', mount: '/' }], true)],
      }, /do not fit in its partitions/);
    } finally {
      rmSync(join(rootfs, 'srv/big'));
    }
  });
});

describe('mkfsArgv', () => {
  it('gives each file system its id the way its mkfs takes it', () => {
    const p = (fs: VmPartition['fs'], extra: Partial<VmPartition> = {}): VmPartition => ({ name: 'p', kind: 'primary', fs, label: 'a-very-long-label-indeed', ...extra });
    assert.deepEqual(mkfsArgv(p('ext4'), 'u', '/dev/x', 100), [['mkfs.ext4', '-F', '-q', '-U', 'u', '-L', 'a-very-long-labe', '/dev/x']]);
    assert.deepEqual(mkfsArgv(p('xfs'), 'u', '/dev/x', 400), [['mkfs.xfs', '-f', '-q', '-m', 'uuid=u', '-L', 'a-very-long-', '/dev/x']]);
    assert.deepEqual(mkfsArgv(p('swap', { label: undefined }), 'u', '/dev/x', 10), [['mkswap', '-U', 'u', '/dev/x']]);
    assert.deepEqual(mkfsArgv(p('vfat', { esp: true, label: 'ESP' }), 'ABCD-0123', '/dev/x', 256), [['mkfs.vfat', '-F', '32', '-i', 'ABCD0123', '-n', 'ESP', '/dev/x']]);
    assert.deepEqual(mkfsArgv(p('vfat', { esp: true, label: 'ESP' }), 'ABCD-0123', '/dev/x', 16), [['mkfs.vfat', '-i', 'ABCD0123', '-n', 'ESP', '/dev/x']]);
    assert.deepEqual(mkfsArgv(p('ntfs', { label: 'win' }), '0123456789ABCDEF', '/dev/x', 100),
      [['mkfs.ntfs', '-Q', '-F', '-q', '-L', 'win', '/dev/x'], ['ntfslabel', '--new-serial=0123456789ABCDEF', '/dev/x']]);
  });
});
