import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { findTarget } from '../../src/targets/registry.js';
import { run } from '../helpers/cli.js';

/**
 * Every limit a renderer or a later build step enforces is a diagnostic at the config's line, for
 * the targets it applies to (issue 13, item 1). Each case names the line it must point at.
 */
const catalogs = loadCatalogs({ env: {} });

const lineOf = (text: string, needle: string): number => {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `the config has a line with ${JSON.stringify(needle)}`);
  return i + 1;
};

const errors = (text: string, target?: string) =>
  loadConfig(text, { catalogs, ...(target ? { target: findTarget(target)! } : {}) }).diagnostics.filter((d) => d.severity === 'error');

/** The config is refused for `target` with `code` at the line holding `needle`, and `ok` targets take it. */
function refused(text: string, code: string, needle: string, targets: readonly (string | undefined)[], ok: readonly string[] = []): void {
  for (const target of targets) {
    const found = errors(text, target);
    assert.ok(found.some((d) => d.code === code && d.line === lineOf(text, needle)),
      `${target ?? 'no target'}: ${code} at line ${lineOf(text, needle)} (${needle}); got ${JSON.stringify(found)}`);
  }
  for (const target of ok) assert.deepEqual(errors(text, target), [], `${target} takes it`);
}

const linux = (hardware: string, rest = '') =>
  `[hardware]\n    vm_id = m1\n    os = debian12-64\n${hardware}[config]\n    root_passwd = pw\n${rest}`;
const windows = (hardware: string, config = '    root_passwd = pw\n', os = 'windows10-64') =>
  `[hardware]\n    os = ${os}\n${hardware}[config]\n    hostname = win1\n${config}`;
const ntfsDisk = '    [[hdds]]\n        [[[hdd0]]]\n            size = 40GB\n            [[[[partitions]]]]\n                [[[[[c]]]]]\n                    fs = ntfs\n';
const nics = (n: number) => `    [[eths]]\n${Array.from({ length: n }, (_, i) => `        [[[eth${i}]]]\n            type = nat\n`).join('')}`;
const disks = (n: number, extra = '') => `    [[hdds]]\n${Array.from({ length: n }, (_, i) => `        [[[hdd${i}]]]\n            size = 1GB\n${extra}`).join('')}`;
const cds = (n: number) => `    [[cd_drives]]\n${Array.from({ length: n }, (_, i) => `        [[[cd${i}]]]\n            connected = 1\n`).join('')}`;

describe('NICs', () => {
  it('VirtualBox takes 8 NICs, VMware 10 (their renderers\' MAX_NICS)', () => {
    refused(linux(nics(9)), 'CFG_TOO_MANY_NICS', '[[[eth8]]]', ['virtualbox'], ['vmware', 'qemu', 'lxc']);
    refused(linux(nics(11)), 'CFG_TOO_MANY_NICS', '[[[eth10]]]', ['vmware'], ['qemu']);
    assert.deepEqual(errors(linux(nics(10)), 'vmware'), [], 'ten NICs fit VMware');
  });
  it('a NIC name over 15 bytes (Linux IFNAMSIZ) is refused at its key, on every target', () => {
    const text = linux('    [[eths]]\n        [[[averyveryverylongnic0]]]\n            type = nat\n');
    refused(text, 'CFG_NIC_NAME', '[[[averyveryverylongnic0]]]', [undefined, 'lxc', 'oci', 'openvz', 'vmware', 'qemu', 'virtualbox']);
    assert.deepEqual(errors(linux('    [[eths]]\n        [[[enp0s31f6lan01]]]\n            type = nat\n')), [], '15 bytes are fine');
  });
  it('a route whose next hop no static NIC reaches, with no DHCP NIC, is refused at its via', () => {
    const net = '[network]\n    [[eths]]\n        [[[eth0]]]\n            type = static\n            address = 192.168.1.2\n            network = 255.255.255.0\n'
      + '    [[routes]]\n        [[[r0]]]\n            to = 10.20.0.0/16\n            via = 10.1.0.1\n';
    refused(linux('', net), 'CFG_ROUTE_UNREACHABLE', 'via = 10.1.0.1', [undefined, 'qemu', 'vmware', 'lxc']);
    assert.deepEqual(errors(linux('', net.replace('via = 10.1.0.1', 'via = 192.168.1.1')), 'qemu'), [], 'a next hop in eth0\'s subnet is fine');
  });
});

describe('controllers and positions', () => {
  it('lsilogic and pvscsi disks on one SCSI controller are refused at the second disk\'s type', () => {
    const text = linux(`${disks(1, '            type = lsilogic\n')}        [[[hdd9]]]\n            size = 1GB\n            type = pvscsi\n`);
    refused(text, 'CFG_SCSI_MIXED', 'type = pvscsi', [undefined, 'vmware', 'qemu', 'virtualbox']);
    const apart = linux(`${disks(1, '            type = lsilogic\n')}        [[[hdd9]]]\n            size = 1GB\n            type = pvscsi\n            pos = 1:0\n`);
    assert.deepEqual(errors(apart, 'vmware'), [], 'on two controllers they are fine');
  });
  it('more CD drives than free IDE positions (4) are refused at the first one without a place', () => {
    refused(linux(cds(5)), 'CFG_NO_POSITION', '[[[cd4]]]', [undefined, 'vmware', 'qemu', 'virtualbox']);
    assert.deepEqual(errors(linux(cds(4)), 'vmware'), [], 'four fit');
  });
  it('an explicit CD position is held on IDE, so an automatic CD drive does not take it too', () => {
    const text = linux('    [[cd_drives]]\n        [[[cd0]]]\n            pos = 0:0\n        [[[cd1]]]\n            connected = 1\n');
    const r = loadConfig(text, { catalogs, target: findTarget('qemu')! });
    assert.deepEqual(r.diagnostics, [], 'no diagnostics');
  });
  it('a CD drive on NVMe is refused (NVMe holds disks only)', () => {
    refused(linux('    [[cd_drives]]\n        [[[cd0]]]\n            type = nvme\n'), 'CFG_CD_NVME', 'type = nvme', [undefined, 'vmware', 'qemu', 'virtualbox']);
  });
  it('VirtualBox takes one SATA controller: a disk on sata1 is refused there only', () => {
    const text = linux('    [[hdds]]\n        [[[hdd0]]]\n            size = 2GB\n            type = sata\n            pos = 1:0\n');
    refused(text, 'CFG_TARGET_CONTROLLER', 'pos = 1:0', ['virtualbox'], ['vmware', 'qemu']);
  });
  it('16 SCSI disks need a second SCSI controller, which VirtualBox cannot import', () => {
    refused(linux(disks(16)), 'CFG_TARGET_CONTROLLER', '[[[hdd15]]]', ['virtualbox'], ['vmware']);
  });
  it('QEMU\'s AHCI has units 0-5 and its mptsas1068 (BIOS guests) 0-8; a UEFI Linux guest\'s virtio-scsi and VMware have more', () => {
    refused(linux('    [[hdds]]\n        [[[hdd0]]]\n            size = 2GB\n            type = sata\n            pos = 0:6\n'), 'CFG_TARGET_UNIT', 'pos = 0:6', ['qemu'], ['vmware']);
    const lsi9 = '    [[hdds]]\n        [[[hdd0]]]\n            size = 2GB\n            type = lsilogic\n            pos = 0:9\n';
    refused(linux(`    firmware = bios\n${lsi9}`), 'CFG_TARGET_UNIT', 'pos = 0:9', ['qemu'], ['vmware']);
    assert.deepEqual(errors(linux(lsi9), 'qemu'), [], 'scsi0:9 is fine on virtio-scsi (debian12-64 is UEFI)');
    assert.deepEqual(errors(linux('    [[hdds]]\n        [[[hdd0]]]\n            size = 2GB\n            type = sata\n            pos = 0:5\n'), 'qemu'), [], 'sata0:5 is fine');
  });
  it('a Windows guest\'s NVMe disks go on AHCI under libvirt, so QEMU refuses units past 5 there; Linux and VMware keep NVMe\'s range', () => {
    const nvme = (unit: number) => `${ntfsDisk}        [[[hdd1]]]\n            size = 2GB\n            type = nvme\n            pos = 0:${unit}\n`;
    refused(windows(nvme(7)), 'CFG_TARGET_UNIT', 'pos = 0:7', ['qemu'], ['vmware']);
    assert.deepEqual(errors(windows(nvme(5)), 'qemu'), [], 'nvme0:5 fits AHCI');
    assert.deepEqual(errors(linux('    [[hdds]]\n        [[[hdd0]]]\n            size = 2GB\n            type = nvme\n            pos = 0:7\n'), 'qemu'), [], 'Linux keeps NVMe on virtio');
  });
});

describe('names and values', () => {
  it('a VM\'s files are named after vm_id: a slash, quote or blank is refused at vm_id for every VM target', () => {
    for (const id of ['a/b', 'a"b', 'a b']) {
      const text = `[hardware]\n    vm_id = '${id}'\n    os = debian12-64\n[config]\n    hostname = web1\n`;
      refused(text, 'CFG_TARGET_NAME', 'vm_id', ['vmware', 'qemu', 'virtualbox']);
    }
  });
  it('a vm_id that stands in for the hostname must be one: a_b and 64 characters are refused at vm_id', () => {
    for (const id of ['a_b', 'x'.repeat(64)]) {
      const text = `[hardware]\n    vm_id = ${id}\n    os = debian12-64\n`;
      refused(text, 'CFG_HOSTNAME', 'vm_id', [undefined, 'lxc', 'qemu']);
      assert.deepEqual(errors(`${text}[config]\n    hostname = web1\n`, 'qemu'), [], `with a hostname, vm_id ${id} only names files`);
    }
  });
  it('on Windows, a vm_id standing in for the computer name must be a NetBIOS name (15 characters)', () => {
    const text = `[hardware]\n    vm_id = WINDOWS-COMPUTER1\n    os = windows10-64\n${ntfsDisk}[config]\n    root_passwd = pw\n`;
    refused(text, 'CFG_HOSTNAME', 'vm_id', [undefined, 'vmware']);
  });
  it('a vm_id a target cannot name its container, image or files after is refused at vm_id', () => {
    // A leading '-' would read as an option to lxc-start, vzctl or vmrun given the name.
    const text = '[hardware]\n    vm_id = -lead\n    os = debian12-64\n[config]\n    hostname = web1\n';
    refused(text, 'CFG_TARGET_NAME', 'vm_id', ['lxc', 'openvz', 'oci', 'vmware', 'qemu', 'virtualbox']);
  });
  it('a value with a line break (triple-quoted) is refused at its line', () => {
    const text = "[hardware]\n    os = debian12-64\n[config]\n    root_passwd = '''two\nlines'''\n";
    refused(text, 'CFG_LINE_BREAK', 'root_passwd', [undefined, 'lxc', 'vmware']);
  });
});

describe('Windows', () => {
  it('needs root_passwd', () => refused(windows(ntfsDisk, ''), 'CFG_WINDOWS_PASSWORD', '[config]', [undefined, 'vmware', 'qemu']));
  it('needs an NTFS system partition: no disks (the default disk is Linux\'s), or only vfat, is refused', () => {
    refused(windows(''), 'CFG_WINDOWS_SYSTEM', '[hardware]', [undefined, 'vmware']);
    refused(windows(ntfsDisk.replace('fs = ntfs', 'fs = vfat')), 'CFG_WINDOWS_SYSTEM', '[[[hdd0]]]', [undefined, 'qemu']);
  });
  it('takes primary partitions only', () => {
    const text = windows(`${ntfsDisk}                [[[[[d]]]]]\n                    type = logical\n                    fs = ntfs\n`, '    root_passwd = pw\n', 'windows7-64');
    refused(text, 'CFG_LOGICAL_WINDOWS', 'type = logical', [undefined, 'virtualbox']);
  });
  it('needs a locale with a language tag: C is refused', () => {
    refused(windows(ntfsDisk, '    root_passwd = pw\n    locale = C\n'), 'CFG_LOCALE_WINDOWS', 'locale = C', [undefined, 'vmware']);
  });
  it('XP is made from a BIOS base disk: UEFI is refused at firmware', () => {
    refused(windows(`    firmware = efi\n${ntfsDisk}`, '    root_passwd = pw\n', 'winxppro'), 'CFG_FIRMWARE_WINDOWS', 'firmware = efi', [undefined]);
  });
  it('a well-formed Windows 10 machine validates for every VM target', () => {
    for (const target of ['vmware', 'qemu', 'virtualbox']) assert.deepEqual(errors(windows(ntfsDisk), target), [], target);
  });
});

describe('partitions', () => {
  it('an MBR disk whose added EFI system partition makes a fifth primary one is refused at its partitions', () => {
    const parts = [1, 2, 3, 4].map((i) => `                [[[[[p${i}]]]]]\n                    fs = ext4\n                    size = 1GB\n${i === 1 ? '                    mount = /\n' : ''}`).join('');
    const text = linux(`    firmware = efi\n    [[hdds]]\n        [[[hdd0]]]\n            size = 8GB\n            table = mbr\n            [[[[partitions]]]]\n${parts}`);
    refused(text, 'CFG_TOO_MANY_PRIMARY', '[[[[partitions]]]]', [undefined, 'qemu']);
    assert.match(errors(text).find((d) => d.code === 'CFG_TOO_MANY_PRIMARY')!.message, /EFI system partition/);
  });
  it('the disk must hold the ESP vmgen adds too', () => {
    const text = linux('    firmware = efi\n    [[hdds]]\n        [[[hdd0]]]\n            size = 100\n');
    refused(text, 'CFG_PARTITIONS_TOO_BIG', 'size = 100', [undefined, 'vmware']);
  });
});

describe('the CLI shows them as FILE:LINE:COL', () => {
  it('validate --target virtualbox names the ninth NIC', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-limits-'));
    try {
      const text = linux(nics(9));
      writeFileSync(join(dir, 'm.conf'), text);
      const r = await run('vmgen', ['validate', join(dir, 'm.conf'), '--target', 'virtualbox']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`m\\.conf:${lineOf(text, '[[[eth8]]]')}:\\d+: error: VirtualBox gives a VM at most 8 NICs`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Linux accounts and repositories', () => {
  it("':' in home_dir, shell or a password hash, and an empty password, are refused at their lines", () => {
    const users = (line: string) => `[hardware]\n    os = debian12-64\n[users]\n    [[users]]\n        [[[u0]]]\n            name = caesar\n            ${line}\n`;
    refused(users('home_dir = /home/a:b'), 'CFG_HOME_DIR', 'home_dir', [undefined, 'lxc']);
    refused(users('shell = /bin/a:b'), 'CFG_SHELL', 'shell', [undefined]);
    refused(users('password_hash = $6$salt$ab:cd'), 'CFG_PASSWORD_HASH', 'password_hash', [undefined]);
    refused(users('passwd = ""'), 'CFG_PASSWORD_EMPTY', 'passwd', [undefined]);
  });
  it('a RedHat-family guest refuses [config] repos (apt lines) at the line', () => {
    const text = '[hardware]\n    os = fedora42-64\n[config]\n    mirror = http://mirror.example/fedora\n    [[repos]]\n        r0 = deb http://mirror.example/debian stable main\n';
    refused(text, 'CFG_REPO', 'r0 =', [undefined, 'lxc']);
  });
});

describe('Linux VM disks', () => {
  const disk = (parts: string, fw = 'bios') => linux(`    firmware = ${fw}\n    [[hdds]]\n        [[[hdd0]]]\n            size = 8GB\n            [[[[partitions]]]]\n${parts}`);
  it('a disk without a partition the root file system fits on (ext2/3/4, xfs) is refused', () => {
    refused(disk('                [[[[[p0]]]]]\n                    fs = vfat\n                    mount = /\n'), 'CFG_ROOT_PARTITION', 'fs = vfat', [undefined, 'qemu'], ['lxc']);
    refused(disk('                [[[[[p0]]]]]\n                    fs = swap\n'), 'CFG_ROOT_PARTITION', '[[[hdd0]]]', [undefined, 'vmware']);
  });
  it('under UEFI a /boot/efi that is not vfat is refused at its fs', () => {
    const parts = '                [[[[[efi]]]]]\n                    fs = ext4\n                    size = 256\n                    mount = /boot/efi\n'
      + '                [[[[[root]]]]]\n                    fs = ext4\n                    mount = /\n';
    refused(disk(parts, 'efi'), 'CFG_ESP', 'fs = ext4', [undefined, 'qemu']);
    assert.deepEqual(errors(disk(parts.replace('fs = ext4\n                    size = 256', 'fs = vfat\n                    size = 256'), 'efi'), 'qemu'), [], 'a vfat /boot/efi is the ESP');
  });
});
