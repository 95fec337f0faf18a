import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../../src/exec/run.js';
import { IS_ROOT, ROOT, lastLine, spawnCapture, systemState, vmgen } from './helpers.js';

/*
 * Issue 15's acceptance, the Debian part: the lab gateway (router, DHCP, DNS and web server, with
 * files, a build-time and a first-boot script) built as an lxc container and as a qemu VM, each
 * started by `vmgen verify`, which checks every service from inside as a client would. The
 * Fedora web and DNS server is in redhat.test.ts, beside the synthetic repository it needs.
 *
 * The qemu build takes the place of vms.test.ts' former qemu UEFI boot of the web server, whose
 * guest the vmware UEFI boot already proves: the qcow2, run.sh and the libvirt XML are checked
 * here, on a guest that has something new to prove.
 */
const LAB = join(ROOT, 'test', 'fixtures', 'services', 'lab-router.conf');
const skip = IS_ROOT ? false : 'needs root (mmdebstrap, mounts, lxc, loop devices)';
const work = mkdtempSync(join(tmpdir(), 'vmgen-services-'));
const out = join(work, 'out');
const archives: Record<string, string> = {};

async function build(target: string): Promise<{ archive: string; log: string }> {
  const r = await vmgen(['build', LAB, '--target', target, '--out', out]);
  assert.equal(r.code, 0, `build ${target} failed:\n${r.stderr}`);
  return { archive: lastLine(r.stdout), log: r.stderr };
}

/** Lines verify must report as passed: each service, asked as a client would, on any runtime. */
const SERVICE_CHECKS: readonly string[] = [
  'service apache2 active: active', 'service named active: active', 'service kea-dhcp4-server active: active',
  'address of eth1: 10.0.1.1/24', 'firewall accepts udp 67',
  'DNS server configuration: named-checkconf -z /etc/bind/named.conf passes',
  'DNS lab.example A 10.0.1.1', 'DNS lab.example MX 10 gw.lab.example.', 'DNS lab.example TXT "v=spf1 -all"', 'DNS gw.lab.example A 10.0.1.1',
  'DNS www.lab.example A 10.0.1.1', 'DNS www.lab.example AAAA fd00:1::1', 'DNS mail.lab.example CNAME gw.lab.example.',
  'DHCP server configuration: kea-dhcp4 -t /etc/kea/kea-dhcp4.conf passes', 'DHCP server listens on eth1: UDP 10.0.1.1:67',
  'IPv4 forwarding on', 'NAT out of eth0',
  'site www.lab.example over http: www.lab.example, lab.example answer with the content of /srv/www/lab/index.html',
  'site www.lab.example over https: www.lab.example, lab.example answer with the content of /srv/www/lab/index.html',
  'first-boot scripts ran',
];

async function verifyOk(archive: string, runtime: RegExp, extra: readonly string[] = []): Promise<string> {
  const r = await vmgen(['verify', archive, '--config', LAB]);
  assert.equal(r.code, 0, `verify failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, runtime);
  assert.doesNotMatch(r.stdout, /^FAIL/m);
  assert.match(r.stdout, /^all \d+ checks passed$/m);
  for (const line of [...SERVICE_CHECKS, ...extra]) assert.ok(r.stdout.includes(`ok    ${line}`), `verify passed "${line}":\n${r.stdout}`);
  return r.stdout;
}

/** `tar -tv` of the given members and what is under them: path → "MODE UID/GID". */
async function owners(archive: string, paths: readonly string[]): Promise<Record<string, string>> {
  const lines = (await run(['tar', '--numeric-owner', '-tvf', archive, ...paths])).stdout.trim().split('\n');
  return Object.fromEntries(lines.map((l) => l.split(/\s+/)).map((f) => [(f[5] ?? '').replace(/\/$/, ''), `${f[0] ?? ''} ${f[1] ?? ''}`]));
}

describe('the lab gateway: router, DHCP, DNS and web server with files and scripts (Debian 12)', { skip }, () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it('lxc: the build script runs in the guest root, its output in the build log and its effect in the archive; the files have their owner and mode', async () => {
    const { archive, log } = await build('lxc');
    archives.lxc = archive;
    assert.match(log, /lab stamp written, the site is in place/);
    assert.equal((await run(['tar', '-xOf', archive, 'rootfs/etc/lab-build-stamp'])).stdout, 'built by vmgen\n');
    assert.equal((await run(['tar', '-xOf', archive, 'rootfs/srv/www/lab/index.html'])).stdout, '<h1>lab.example</h1>\n');
    assert.equal((await run(['tar', '-xOf', archive, 'rootfs/etc/motd'])).stdout, 'Welcome to the lab gateway.\n');
    // www-data is 33:33 in every Debian; directories get x where the mode gives r; no owner is root.
    assert.deepEqual(await owners(archive, ['rootfs/srv/www/lab', 'rootfs/etc/motd']), {
      'rootfs/srv/www/lab': 'drwxr-xr-x 33/33', 'rootfs/srv/www/lab/index.html': '-rw-r--r-- 33/33', 'rootfs/etc/motd': '-rw-r--r-- 0/0',
    });
  });

  it('lxc: the first-boot script runs at the first boot and never again', async () => {
    const lxcpath = join(work, 'lxc');
    const dir = join(lxcpath, 'labgw');
    mkdirSync(dir, { recursive: true });
    await run(['tar', '--numeric-owner', '-xf', archives.lxc!, '-C', dir]);
    assert.equal(existsSync(join(dir, 'rootfs', 'var', 'lib', 'lab-first-boot')), false, 'the first-boot script did not run at build time');
    // LXC reads absolute paths only, and this host has no lxcbr0.
    const config = readFileSync(join(dir, 'config'), 'utf8')
      .replace(/^lxc\.rootfs\.path = .*$/m, `lxc.rootfs.path = dir:${dir}/rootfs`)
      .replace(/^lxc\.mount\.fstab = .*$/m, `lxc.mount.fstab = ${dir}/fstab`);
    writeFileSync(join(dir, 'config'), existsSync('/sys/class/net/lxcbr0') ? config : config.replace(/^lxc\.net\.0\.link = .*\n/m, ''));
    const attach = (...argv: string[]) => run(['lxc-attach', '-n', 'labgw', '-P', lxcpath, '--', ...argv]);
    for (let boot = 1; boot <= 2; boot++) {
      await run(['lxc-start', '-n', 'labgw', '-P', lxcpath]);
      try {
        assert.match(await systemState('labgw', lxcpath), /^(running|degraded)$/);
        assert.equal((await attach('cat', '/var/lib/lab-first-boot')).stdout, 'first boot of gw\n', `after boot ${boot}`);
        // vmgen's record that the first boot's scripts all succeeded, which keeps them from running again.
        assert.equal((await spawnCapture('lxc-attach', ['-n', 'labgw', '-P', lxcpath, '--', 'test', '-e', '/var/lib/vmgen/first-boot/done'])).code, 0, `the marker after boot ${boot}`);
      } finally {
        await run(['lxc-stop', '-n', 'labgw', '-P', lxcpath, '-k']).catch(() => undefined);
      }
    }
  });

  it('lxc: vmgen verify passes every service check', async () => {
    await verifyOk(archives.lxc!, /^runtime: lxc/m, ['hostname (running): gw']);
  });

  it('qemu, UEFI: virt-xml-validate accepts the domain, the qcow2 is clean, and the booted VM passes every service check', async () => {
    const { archive } = await build('qemu');
    const dir = join(work, 'qemu');
    mkdirSync(dir);
    await run(['tar', '-xf', archive, '-C', dir]);
    assert.deepEqual(readdirSync(dir).sort(), ['labgw-OVMF_VARS.fd', 'labgw-hdd0.qcow2', 'labgw.xml', 'run.sh']);
    const validate = await run(['virt-xml-validate', join(dir, 'labgw.xml'), 'domain']);
    assert.match(validate.stdout + validate.stderr, /validates/);
    assert.match((await run(['qemu-img', 'check', join(dir, 'labgw-hdd0.qcow2')])).stdout, /No errors were found on the image/);
    // verify boots the disk on virtio-blk: that the archive's own run.sh and domain put its SCSI disk
    // on virtio-scsi, the SCSI controller OVMF boots from, is checked here.
    assert.match(readFileSync(join(dir, 'run.sh'), 'utf8'), /^ {2}-device virtio-scsi-pci,id=scsi0 \\$/m);
    assert.match(readFileSync(join(dir, 'labgw.xml'), 'utf8'), /<controller type="scsi" index="0" model="virtio-scsi"\/>/);
    rmSync(dir, { recursive: true });
    await verifyOk(archive, /^runtime: qemu/m, ['hostname (login prompt): gw', 'address of eth0: 192.0.2.2/24', 'mount /boot/efi']);
  });
});
