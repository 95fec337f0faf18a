import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../../src/exec/run.js';
import { VAGRANT_INSECURE_KEY } from '../../src/targets/qemu/box.js';
import { IS_ROOT, ROOT, lastLine, vmgen } from './helpers.js';

/*
 * Real VM builds, booted under qemu (TCG here) by `vmgen verify`: each disk format once (the VMware
 * vmdk and the OVA's streamOptimized VMDK under UEFI, the qcow2 under BIOS), about a minute per
 * boot. The BIOS builds of the other two formats are the same cached disk set converted, so they
 * are checked for the BIOS boot code and active partition rather than booted again.
 */
const WEB = join(ROOT, 'examples', 'debian-web.conf');
const TWO_DISKS = join(ROOT, 'test', 'fixtures', 'vm', 'two-disks.conf');
const skip = IS_ROOT ? false : 'needs root (loop devices, mounts, mmdebstrap)';
const work = mkdtempSync(join(tmpdir(), 'vmgen-vm-'));
const WEB_BIOS = join(work, 'web-bios.conf');
writeFileSync(WEB_BIOS, readFileSync(WEB, 'utf8').replace('    os = debian12-64\n', '    os = debian12-64\n    firmware = bios\n'));
/** The BIOS machine as a Vagrant box takes it: eth0 by DHCP (vagrant-libvirt finds the guest by its lease). */
const WEB_BOX = join(work, 'web-box.conf');
writeFileSync(WEB_BOX, readFileSync(WEB_BIOS, 'utf8').replace('            type = static\n            address = 192.168.1.2\n            network = 255.255.255.0\n', '            type = dhcp\n'));

async function build(config: string, target: string, format?: string): Promise<string> {
  // A folder per build: the tests run two at a time, and two of them build web1 for vmware.
  const r = await vmgen(['build', config, '--target', target, ...(format ? ['--format', format] : []), '--out', mkdtempSync(join(work, 'out-'))]);
  assert.equal(r.code, 0, `build ${target} failed:\n${r.stderr}`);
  return lastLine(r.stdout);
}

async function verify(archive: string, config: string, expect: string[]): Promise<void> {
  const r = await vmgen(['verify', archive, '--config', config]);
  assert.equal(r.code, 0, `verify failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^runtime: qemu/m);
  assert.match(r.stdout, /^all \d+ checks passed$/m);
  for (const line of expect) assert.ok(r.stdout.includes(line), `verify output has "${line}":\n${r.stdout}`);
}

async function unpack(archive: string): Promise<string> {
  const dir = join(work, `x-${createHash('sha256').update(archive).digest('hex').slice(0, 8)}`);
  mkdirSync(dir, { recursive: true });
  await run(['tar', '-xf', archive, '-C', dir]);
  return dir;
}

async function qemuImgCheckClean(path: string): Promise<void> {
  const r = await run(['qemu-img', 'check', path]);
  assert.match(r.stdout, /No errors were found on the image/, r.stdout);
}

/** What a BIOS reads of the disk: the MBR's boot code (syslinux's, as the booted qemu BIOS build has it) and an active partition. */
async function assertBiosBootable(image: string): Promise<void> {
  const raw = `${image}.raw`;
  await run(['qemu-img', 'convert', '-O', 'raw', image, raw]);
  try {
    // The image is gigabytes: read its first sector only.
    const mbr = Buffer.alloc(512);
    const fd = openSync(raw, 'r');
    try {
      readSync(fd, mbr, 0, 512, 0);
    } finally {
      closeSync(fd);
    }
    assert.equal(mbr.readUInt16LE(510), 0xaa55, 'the MBR signature');
    const syslinux = ['/usr/lib/syslinux/mbr/mbr.bin', '/usr/lib/SYSLINUX/mbr.bin'].find((p) => existsSync(p));
    assert.ok(syslinux !== undefined, "syslinux's mbr.bin is on the host (syslinux-common)");
    assert.deepEqual(mbr.subarray(0, 440), readFileSync(syslinux).subarray(0, 440), "the boot code is syslinux's mbr.bin");
    const table = JSON.parse((await run(['sfdisk', '--json', raw])).stdout) as { partitiontable: { label: string; partitions: Array<{ bootable?: boolean }> } };
    assert.equal(table.partitiontable.label, 'dos', 'an MBR partition table');
    assert.ok(table.partitiontable.partitions.some((p) => p.bootable === true), 'an active partition for the MBR code to start');
  } finally {
    rmSync(raw, { force: true });
  }
}

const WEB_CHECKS = ['hostname (login prompt): web1', 'user caesar in group julius', 'password of caesar: yescrypt', 'service ssh active: active',
  'service apache2 active: active', 'address of eth0: 192.168.1.2/24', 'firewall accepts tcp 80', 'root file system:', 'swap: in use'];

// Two at a time: a TCG boot keeps one core busy for a minute or two, and this file ran its three
// boots one after another while the other core idled (346 s of the suite's 30 minutes).
describe('VM builds boot under qemu and pass vmgen verify', { skip, concurrency: 2 }, () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it('vmware, UEFI: the vmx, a clean monolithicSparse vmdk, and the guest as specified', async () => {
    const archive = await build(WEB, 'vmware');
    const dir = await unpack(archive);
    assert.deepEqual(readdirSync(dir).sort(), ['web1-hdd0.vmdk', 'web1.vmx']);
    const vmx = readFileSync(join(dir, 'web1.vmx'), 'utf8');
    assert.match(vmx, /^firmware = "efi"$/m);
    assert.match(vmx, /^guestOS = "debian12-64"$/m);
    assert.match(readFileSync(join(dir, 'web1-hdd0.vmdk')).subarray(0, 1024).toString('latin1'), /^KDMV/);
    // Made as the disk cache's hdd0.vmdk; its descriptor now names the file it is in.
    assert.match(readFileSync(join(dir, 'web1-hdd0.vmdk')).subarray(0, 64 * 512).toString('latin1'), /^RW \d+ SPARSE "web1-hdd0\.vmdk"$/m);
    await qemuImgCheckClean(join(dir, 'web1-hdd0.vmdk'));
    await verify(archive, WEB, [...WEB_CHECKS, 'mount /boot/efi']);
  });

  it('vmware, BIOS: no firmware key, and the vmdk carries syslinux\'s MBR code and an active partition', async () => {
    const archive = await build(WEB_BIOS, 'vmware');
    const dir = await unpack(archive);
    assert.doesNotMatch(readFileSync(join(dir, 'web1.vmx'), 'utf8'), /^firmware/m);
    await assertBiosBootable(join(dir, 'web1-hdd0.vmdk'));
  });

  // qemu under UEFI: services.test.ts builds and boots the lab gateway as a qcow2, with the same checks of the archive.

  it('qemu, BIOS, two disks and four partitions: sfdisk shows exactly that layout, and the guest mounts and swaps it', async () => {
    const archive = await build(TWO_DISKS, 'qemu');
    const dir = await unpack(archive);
    const layout = async (disk: string): Promise<Array<[string, number]>> => {
      const raw = join(work, `${disk}.raw`);
      await run(['qemu-img', 'convert', '-O', 'raw', join(dir, `${disk}.qcow2`), raw]);
      const table = JSON.parse((await run(['sfdisk', '--json', raw])).stdout) as { partitiontable: { label: string; partitions: Array<{ type: string; size: number }> } };
      rmSync(raw);
      return [[table.partitiontable.label, 0], ...table.partitiontable.partitions.map((p): [string, number] => [p.type.toLowerCase(), Math.round(p.size / 2048)])];
    };
    // hdd0: MBR, root 2 GiB, an extended partition holding the logical swap (the rest: 3 GiB - 2 GiB - 1 MiB - 1 MiB EBR).
    assert.deepEqual(await layout('store1-hdd0'), [['dos', 0], ['83', 2048], ['5', 1023], ['82', 1022]]);
    // hdd1: GPT, data 512 MiB and logs with the rest (minus the backup table's last MiB).
    assert.deepEqual(await layout('store1-hdd1'), [['gpt', 0], ['0fc63daf-8483-4772-8e79-3d69d8477de4', 512], ['0fc63daf-8483-4772-8e79-3d69d8477de4', 510]]);
    await verify(archive, TWO_DISKS, ['hostname (login prompt): store1', 'mount /srv/data', 'mount /var/log/app', 'xfs', 'swap: in use']);
  });

  it('virtualbox, UEFI: an OVA with the descriptor first, a manifest whose digests match, a clean streamOptimized VMDK', async () => {
    await checkOva(await build(WEB, 'virtualbox'));
  });

  // Not booted: its disk is the same streamOptimized VMDK of the same layer as the VirtualBox OVA's, which the test above boots.
  it('vmware -f ova, UEFI: the same package for ovftool and vSphere, with VMware\'s system type', async () => {
    const archive = await build(WEB, 'vmware', 'ova');
    assert.match(archive, /web1-vmware\.ova$/);
    await checkOva(archive, false);
    assert.match(readFileSync(join(await unpack(archive), 'web1.ovf'), 'utf8'), /<vssd:VirtualSystemType>vmx-19<\/vssd:VirtualSystemType>/);
  });

  async function checkOva(archive: string, boot = true): Promise<void> {
    assert.match(archive, /\.ova$/);
    const members = (await run(['tar', '-tf', archive])).stdout.trim().split('\n');
    assert.deepEqual(members, ['web1.ovf', 'web1.mf', 'web1-hdd0.vmdk']);
    const dir = await unpack(archive);
    const manifest = readFileSync(join(dir, 'web1.mf'), 'utf8').trim().split('\n');
    assert.equal(manifest.length, 2);
    for (const line of manifest) {
      const m = /^SHA256\((.+)\)= ([0-9a-f]{64})$/.exec(line);
      assert.ok(m, line);
      assert.equal(createHash('sha256').update(readFileSync(join(dir, m[1]!))).digest('hex'), m[2], `digest of ${m[1]}`);
    }
    assert.match((await run(['qemu-img', 'info', join(dir, 'web1-hdd0.vmdk')])).stdout, /create type: streamOptimized/);
    await qemuImgCheckClean(join(dir, 'web1-hdd0.vmdk'));
    await run(['xmllint', '--noout', join(dir, 'web1.ovf')]);
    if (boot) await verify(archive, WEB, WEB_CHECKS);
  }

  /*
   * Not booted: vagrant up needs libvirtd and KVM, which this host has not. The box's layout is
   * checked against vagrant-libvirt's source in test/targets/qemu-box.test.ts; here Debian's
   * vagrant takes the built box, and the guest's disk holds what vagrant up logs in with.
   */
  it('qemu -f box: vagrant box add takes it, vagrant box list shows it for libvirt, and its disk has the vagrant account', async () => {
    const archive = await build(WEB_BOX, 'qemu', 'box');
    assert.match(archive, /web1-qemu\.box$/);
    assert.deepEqual((await run(['tar', '-tzf', archive])).stdout.trim().split('\n'), ['metadata.json', 'Vagrantfile', 'box.img']);
    const dir = await unpack(archive);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')), { provider: 'libvirt', format: 'qcow2', virtual_size: 4 });
    const info = JSON.parse((await run(['qemu-img', 'info', '--output=json', join(dir, 'box.img')])).stdout) as Record<string, unknown>;
    assert.equal(info.format, 'qcow2');
    assert.equal(info['backing-filename'], undefined, 'box.img stands alone');
    await qemuImgCheckClean(join(dir, 'box.img'));
    await run(['ruby', '-c', join(dir, 'Vagrantfile')]);
    await checkVagrantAccount(join(dir, 'box.img'));

    const home = mkdtempSync(join(work, 'vagrant-home-'));
    const vagrant = (args: string[]) => run(['vagrant', ...args], { env: { ...process.env, VAGRANT_HOME: home } });
    await vagrant(['box', 'add', '--name', 'vmgen-test', archive]);
    const listed = (await vagrant(['box', 'list', '--machine-readable'])).stdout;
    const fields = listed.trim().split('\n').map((line) => line.split(',').slice(2, 4).join(','));
    assert.ok(fields.includes('box-name,vmgen-test'), `vagrant box list names the box:\n${listed}`);
    assert.ok(fields.includes('box-provider,libvirt'), `vagrant box list gives it for libvirt:\n${listed}`);
    await vagrant(['box', 'remove', 'vmgen-test', '--provider', 'libvirt']);
    assert.doesNotMatch((await vagrant(['box', 'list', '--machine-readable'])).stdout, /box-name,vmgen-test/);
  });

  /** The root file system of a box's disk, read-only: the account, its key and sudo rights, sshd enabled. */
  async function checkVagrantAccount(image: string): Promise<void> {
    const raw = join(work, 'box.raw');
    const mnt = mkdtempSync(join(work, 'box-root-'));
    await run(['qemu-img', 'convert', '-O', 'raw', image, raw]);
    // The root file system is the first partition; no partition devices here (no udev), so mount at its offset.
    const table = JSON.parse((await run(['sfdisk', '--json', raw])).stdout) as { partitiontable: { sectorsize?: number; partitions: Array<{ start: number }> } };
    const offset = table.partitiontable.partitions[0]!.start * (table.partitiontable.sectorsize ?? 512);
    try {
      await run(['mount', '-o', `loop,ro,noload,offset=${offset}`, raw, mnt]);
      try {
        assert.match(readFileSync(join(mnt, 'etc/passwd'), 'utf8'), /^vagrant:x:\d+:\d+::\/home\/vagrant:\/bin\/bash$/m);
        const key = readFileSync(join(mnt, 'home/vagrant/.ssh/authorized_keys'), 'utf8');
        assert.ok(key.split('\n').includes(VAGRANT_INSECURE_KEY), `authorized_keys has Vagrant's insecure key:\n${key}`);
        assert.equal(readFileSync(join(mnt, 'etc/sudoers.d/vagrant'), 'utf8'), 'vagrant ALL=(ALL) NOPASSWD: ALL\n');
        assert.equal(statSync(join(mnt, 'etc/sudoers.d/vagrant')).mode & 0o777, 0o440, 'sudo reads a drop-in of mode 0440');
        // The link is absolute in the guest: read it, not what it points to on this host.
        assert.match(readlinkSync(join(mnt, 'etc/systemd/system/multi-user.target.wants/ssh.service')), /\/ssh\.service$/, 'sshd starts at boot');
        const network = readFileSync(join(mnt, 'etc/systemd/network/10-eth0.network'), 'utf8');
        assert.match(network, /^DHCP=(yes|ipv4)$/m);
      } finally {
        await run(['umount', mnt]);
      }
    } finally {
      rmSync(raw, { force: true });
    }
  }

  it('virtualbox, BIOS: the OVA as under UEFI, its VMDK with syslinux\'s MBR code and an active partition', async () => {
    const archive = await build(WEB_BIOS, 'virtualbox');
    await checkOva(archive, false);
    await assertBiosBootable(join(await unpack(archive), 'web1-hdd0.vmdk'));
  });
});
