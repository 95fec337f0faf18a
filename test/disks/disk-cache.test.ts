import assert from 'node:assert/strict';
import { includesAll } from '../helpers/assert-values.js';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LayerCache } from '../../src/cache/store.js';
import { layerKey, type LayerKeyParts } from '../../src/cache/key.js';
import { mountLayer, type MountedRootfs } from '../../src/layers/mount.js';
import { run } from '../../src/exec/run.js';
import { convertImages } from '../../src/targets/vm/common.js';
import { convertArgv, diskLayoutSignature, ensureDiskSet, openCachedDisks, patchOpenedDisks } from '../../src/disks/disk-cache.js';
import type { VmDisk, VmLayout } from '../../src/disks/layout.js';
import { deltaBlocker, readOverlayDelta, type OverlayDelta } from '../../src/disks/overlay-delta.js';
import { configure, fakeLayer } from '../helpers/overlay-fixture.js';

function disk(name: string, file: string, controller: VmDisk['controller'] = 'sata'): VmDisk {
  return {
    name, file, sizeMiB: 64, controller, bus: 0, unit: 0, table: 'gpt', boot: true, partitions: [
      { name: 'esp', kind: 'primary', fs: 'vfat', sizeMiB: 40, mount: '/boot/efi', esp: true },
      { name: 'root', kind: 'primary', fs: 'ext4', mount: '/' },
    ],
  };
}

const layoutOf = (file: string, controller?: VmDisk['controller']): VmLayout => ({ firmware: 'efi', cdDrives: [], disks: [disk('hdd0', file, controller)] });

describe('diskLayoutSignature', () => {
  it('is the same for two machines with the same disks, whatever they are called', () => {
    assert.deepEqual(diskLayoutSignature(layoutOf('web1-hdd0'), 'qcow2'), diskLayoutSignature(layoutOf('db7-hdd0'), 'qcow2'));
  });

  it('tells VMDK adapter types apart, which only a VMDK records', () => {
    assert.notDeepEqual(diskLayoutSignature(layoutOf('a', 'ide'), 'vmdk'), diskLayoutSignature(layoutOf('a', 'sata'), 'vmdk'));
    assert.deepEqual(diskLayoutSignature(layoutOf('a', 'ide'), 'qcow2'), diskLayoutSignature(layoutOf('a', 'sata'), 'qcow2'));
  });

  it('changes with a partition or the firmware', () => {
    const bigger = layoutOf('a');
    bigger.disks[0]!.partitions[0]!.sizeMiB = 50;
    assert.notDeepEqual(diskLayoutSignature(bigger, 'raw'), diskLayoutSignature(layoutOf('a'), 'raw'));
    assert.notDeepEqual(diskLayoutSignature({ ...layoutOf('a'), firmware: 'bios' }, 'raw'), diskLayoutSignature(layoutOf('a'), 'raw'));
  });
});

describe('convertArgv from a cached image', () => {
  it('names the source format', () => {
    assert.deepEqual(convertArgv('/c/hdd0.vmdk', '/w/a.vmdk', 'vmdk', { from: 'vmdk', subformat: 'streamOptimized', adapter: 'lsilogic' }),
      ['qemu-img', 'convert', '-f', 'vmdk', '-O', 'vmdk', '-o', 'subformat=streamOptimized,adapter_type=lsilogic', '/c/hdd0.vmdk', '/w/a.vmdk']);
  });
});

describe('deltaBlocker', () => {
  const delta = (copies: string[], deletions: string[] = []): OverlayDelta => ({ copies, deletions, overwritten: [] });
  it('lets changes on mounted Linux file systems through', () => {
    assert.equal(deltaBlocker(delta(['etc', 'etc/hostname', 'home/caesar/.bashrc'], ['etc/ssh/ssh_host_rsa_key']), layoutOf('a')), undefined);
  });

  it('stops at the bootloader, the ESP and unmounted file systems', () => {
    assert.equal(deltaBlocker(delta(['boot', 'boot/vmlinuz-6.1.0-99-amd64']), layoutOf('a')), 'boot');
    assert.equal(deltaBlocker(delta([], ['boot/efi/EFI/x']), layoutOf('a')), 'boot/efi/EFI/x');
    const ntfs = layoutOf('a');
    ntfs.disks[0]!.partitions.splice(1, 0, { name: 'win', kind: 'primary', fs: 'ntfs', sizeMiB: 8, mount: '/win' });
    assert.equal(deltaBlocker(delta(['win/x']), ntfs), 'win/x');
    assert.equal(deltaBlocker(delta(['winter']), ntfs), undefined, 'a sibling that only starts with the same letters is not below it');
  });
});

const notRoot = process.getuid?.() !== 0 ? 'needs root (overlay and loop mounts)' : false;

describe('cached disk images patched with a build\'s overlay', { skip: notRoot }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-disk-cache-'));
  const cache = new LayerCache(join(dir, 'cache'));
  const parts: LayerKeyParts = { distribution: 'debian', release: '12', suite: 'bookworm', arch: 'amd64', mirror: 'http://mirror.example/debian', packages: ['fake'], variant: 'minbase', recipe: 1 };
  const key = layerKey('packages', parts);
  let lower = '';
  let mounted: MountedRootfs | undefined;
  let delta: OverlayDelta;
  const signal = new AbortController().signal;
  const deferred: Array<() => Promise<void> | void> = [];
  const logs: string[] = [];

  before(async () => {
    const filled = await cache.fill(key, { kind: 'packages', parts }, async (rootfs) => fakeLayer(rootfs));
    lower = filled.layer.rootfs;
    const work = join(dir, 'work');
    mounted = await mountLayer(lower, work, join(work, 'merged'));
    assert.equal(mounted.how, 'overlay');
    configure(mounted.path);
    delta = await readOverlayDelta({ upper: mounted.upper!, lower, merged: mounted.path });
  });
  after(async () => {
    await mounted?.release();
    for (const fn of deferred.reverse()) await fn();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads deletions (whiteouts, opaque directories, kind changes) and copies from the overlay', () => {
    assert.deepEqual(delta.deletions, ['etc/gone.d', 'etc/opaque.d/old', 'etc/ssh/ssh_host_rsa_key', 'srv/dir-then-file', 'srv/file-then-dir']);
    assert.deepEqual(delta.copies.filter((p) => !p.startsWith('etc/ssh/') && p !== 'etc/ssh'), [
      'etc', 'etc/fstab', 'etc/hostname', 'etc/opaque.d', 'etc/opaque.d/new', 'home', 'home/caesar', 'home/caesar/notes',
      'srv', 'srv/dir-then-file', 'srv/dir-then-file/x', 'srv/file-then-dir',
    ]);
    includesAll(delta.copies, ['etc/ssh/ssh_host_ed25519_key']);
    assert.ok(!delta.copies.includes('etc/ssh/ssh_host_rsa_key'), 'a whiteout is not copied');
  });

  for (const format of ['vmdk', 'qcow2', 'raw'] as const) {
    it(`${format}: made once from the layer, then copied and patched into exactly the configured tree`, async () => {
      const layout = layoutOf(`m-${format}`);
      const workDir = join(dir, `disks-${format}`);
      mkdirSync(workDir);
      const ctx = { layout, workDir, signal, log: (l: string) => logs.push(l), defer: (fn: () => Promise<void> | void) => deferred.push(fn) };
      const first = await ensureDiskSet({ ...ctx, cache, layerKey: key, layerRootfs: lower, format });
      assert.equal(first.filled, true);
      const again = await ensureDiskSet({ ...ctx, layout: layoutOf('another-machine'), cache, layerKey: key, layerRootfs: lower, format });
      assert.equal(again.filled, false, 'a machine of another name with the same disks shares the cached images');
      const cachedBytes = readFileSync(join(first.set.dir, first.set.files.hdd0!));

      const opened = await openCachedDisks({ ...ctx, set: first.set });
      const images = await patchOpenedDisks(opened, { ...ctx, delta, upper: mounted!.upper! });
      assert.deepEqual(images.map((i) => [i.disk, i.format]), [['hdd0', format]]);
      assert.deepEqual(readFileSync(join(first.set.dir, first.set.files.hdd0!)), cachedBytes, 'the cached image is left as it was');
      assert.deepEqual(readdirSync(workDir), [`m-${format}.${format}`], 'no export file, pid file or mount point is left');
      assert.ok(!readFileSync('/proc/self/mounts', 'utf8').includes(workDir), 'nothing stays mounted');
      if (format !== 'raw') assert.match((await run(['qemu-img', 'check', images[0]!.path])).stdout, /No errors/);

      // Read back through the target's own conversion, as the archive step does.
      const out = join(workDir, 'out');
      const files = await convertImages(images, layout, out, 'qcow2', signal);
      const raw = join(workDir, 'check.raw');
      await run(['qemu-img', 'convert', '-O', 'raw', join(out, files.hdd0!), raw]);
      const table = JSON.parse((await run(['sfdisk', '--json', raw])).stdout) as { partitiontable: { partitions: Array<{ start: number; size: number }> } };
      const root = table.partitiontable.partitions[1]!;
      const mnt = join(workDir, 'look');
      mkdirSync(mnt);
      await run(['mount', '-o', `ro,loop,offset=${root.start * 512},sizelimit=${root.size * 512}`, raw, mnt]);
      try {
        const m = (p: string): string => join(mnt, p);
        assert.equal(readFileSync(m('etc/hostname'), 'utf8'), 'web1\n');
        assert.equal(readFileSync(m('var/lib/untouched'), 'utf8'), 'same', 'what the build did not touch comes from the layer');
        assert.equal(lstatSync(m('etc/hostname.link')).isSymbolicLink(), true);
        assert.deepEqual(readdirSync(m('etc/ssh')), ['ssh_host_ed25519_key']);
        assert.equal(lstatSync(m('etc/ssh/ssh_host_ed25519_key')).mode & 0o777, 0o600);
        assert.equal(existsSync(m('etc/gone.d')), false);
        assert.deepEqual(readdirSync(m('etc/opaque.d')), ['new']);
        assert.equal(readFileSync(m('srv/dir-then-file/x'), 'utf8'), 'now a dir');
        assert.equal(readFileSync(m('srv/file-then-dir'), 'utf8'), 'now a file');
        const notes = lstatSync(m('home/caesar/notes'));
        assert.deepEqual([notes.uid, notes.gid, notes.mode & 0o777], [1234, 5678, 0o640]);
        assert.match(readFileSync(m('etc/fstab'), 'utf8'), new RegExp(`UUID=${first.set.uuids['hdd0/root']}\\s+/\\s+ext4`), 'a VM fstab, not the container one');
        assert.equal(existsSync(m('upper')) || existsSync(m('.wh.gone.d')), false);
      } finally {
        await run(['umount', mnt]);
      }
    });
  }

  it('prunes like any layer, and the layer it was made from is untouched', async () => {
    const kinds = (await cache.list()).map((l) => l.kind).sort();
    assert.deepEqual(kinds, ['disks', 'disks', 'disks', 'packages']);
    const probe = join(dir, 'probe');
    cpSync(lower, probe, { recursive: true, verbatimSymlinks: true });
    assert.equal(readFileSync(join(probe, 'etc/hostname'), 'utf8'), 'layer\n');
    assert.equal(existsSync(join(probe, 'etc/ssh/ssh_host_rsa_key')), true);
  });
});
