import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { noItem } from '../helpers/assert-values.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedSpec } from '../../src/config/resolve.js';
import { VmgenError } from '../../src/errors.js';
import { OVMF_CANDIDATES, bootVm, cpuCanVirtualize, findOvmf, qemuOptValue, qemuVerifyArgv, verifyVm, type QemuVerifyArgvOptions } from '../../src/verify/runtimes/qemu.js';
import type { VmLayout } from '../../src/disks/layout.js';
import { recordedSpec } from '../fixtures/verify/specs.js';

const BASE: QemuVerifyArgvOptions = {
  disks: [{ path: '/w/web1-hdd0.qcow2', format: 'qcow2' }],
  firmware: 'bios', accel: 'tcg', memoryMiB: 1024, cpus: 2, nics: 1, socketPath: '/w/console.sock',
};

const OVMF = { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/w/OVMF_VARS.fd' };

/** The values following each occurrence of a flag. */
function values(argv: readonly string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1] ?? ''] : []));
}

describe('qemuVerifyArgv', () => {
  it('BIOS under TCG: q35, the size, a snapshot, one disk, one NIC and the console socket', () => {
    assert.deepEqual(qemuVerifyArgv(BASE), [
      'qemu-system-x86_64', '-nodefaults', '-machine', 'q35,accel=tcg', '-m', '1024', '-smp', '2', '-snapshot', '-no-reboot',
      '-drive', 'file=/w/web1-hdd0.qcow2,format=qcow2,if=none,id=d0', '-device', 'virtio-blk-pci,drive=d0,bootindex=0',
      '-nic', 'user,model=virtio-net-pci', '-device', 'virtio-rng-pci', '-display', 'none', '-monitor', 'none',
      '-chardev', 'socket,id=ser0,path=/w/console.sock,server=on,wait=off', '-serial', 'chardev:ser0',
    ]);
  });

  it('KVM adds the host CPU; TCG does not', () => {
    const kvm = qemuVerifyArgv({ ...BASE, accel: 'kvm' });
    assert.deepEqual(values(kvm, '-machine'), ['q35,accel=kvm']);
    assert.deepEqual(values(kvm, '-cpu'), ['host']);
    assert.deepEqual(values(qemuVerifyArgv(BASE), '-cpu'), []);
  });

  it('UEFI: OVMF code read-only and the VM\'s own variable store, as pflash before the disks', () => {
    const argv = qemuVerifyArgv({ ...BASE, firmware: 'efi', ovmf: OVMF });
    assert.deepEqual(values(argv, '-drive').slice(0, 2), [
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
      'if=pflash,format=raw,unit=1,file=/w/OVMF_VARS.fd',
    ]);
    assert.throws(() => qemuVerifyArgv({ ...BASE, firmware: 'efi' }), /OVMF/);
    noItem(values(qemuVerifyArgv(BASE), '-drive'), (d) => d.includes('pflash'));
  });

  it('raw, qcow2 and vmdk disks in order, the boot disk first, on virtio, SATA or NVMe', () => {
    const argv = qemuVerifyArgv({
      ...BASE,
      disks: [
        { path: '/w/a.raw', format: 'raw' },
        { path: '/w/b.qcow2', format: 'qcow2', bus: 'sata' },
        { path: '/w/c.vmdk', format: 'vmdk', bus: 'sata' },
        { path: '/w/d.raw', format: 'raw', bus: 'nvme' },
      ],
    });
    assert.deepEqual(values(argv, '-drive'), [
      'file=/w/a.raw,format=raw,if=none,id=d0',
      'file=/w/b.qcow2,format=qcow2,if=none,id=d1',
      'file=/w/c.vmdk,format=vmdk,if=none,id=d2',
      'file=/w/d.raw,format=raw,if=none,id=d3',
    ]);
    assert.deepEqual(values(argv, '-device').slice(0, 4), [
      'virtio-blk-pci,drive=d0,bootindex=0',
      'ide-hd,drive=d1,bus=ide.0,bootindex=1',
      'ide-hd,drive=d2,bus=ide.1,bootindex=2',
      'nvme,drive=d3,serial=vmgen3,bootindex=3',
    ]);
  });

  it('always runs on a snapshot, so the archive\'s disks are never written', () => {
    for (const firmware of ['bios', 'efi'] as const) {
      for (const accel of ['kvm', 'tcg'] as const) {
        const argv = qemuVerifyArgv({ ...BASE, firmware, accel, ovmf: OVMF });
        assert.ok(argv.includes('-snapshot'), `${firmware}/${accel}`);
      }
    }
  });

  it('one user-mode NIC per configured NIC', () => {
    assert.deepEqual(values(qemuVerifyArgv({ ...BASE, nics: 3 }), '-nic'), Array(3).fill('user,model=virtio-net-pci'));
  });

  it('doubles commas in paths, so a file name cannot add qemu options', () => {
    assert.equal(qemuOptValue('/w/a,format=raw,file=/etc/shadow'), '/w/a,,format=raw,,file=/etc/shadow');
    const argv = qemuVerifyArgv({ ...BASE, disks: [{ path: '/w/x,snapshot=off', format: 'raw' }], socketPath: '/w/s,server=off' });
    assert.deepEqual(values(argv, '-drive'), ['file=/w/x,,snapshot=off,format=raw,if=none,id=d0']);
    assert.deepEqual(values(argv, '-chardev'), ['socket,id=ser0,path=/w/s,,server=off,server=on,wait=off']);
  });

  it('refuses a VM without disks, and more SATA disks than q35 has ports', () => {
    assert.throws(() => qemuVerifyArgv({ ...BASE, disks: [] }), /at least one disk/);
    const seven = Array.from({ length: 7 }, (_, i) => ({ path: `/w/${i}.raw`, format: 'raw' as const, bus: 'sata' as const }));
    assert.throws(() => qemuVerifyArgv({ ...BASE, disks: seven }), /6 ports/);
  });
});

describe('findOvmf', () => {
  it("prefers Debian's 4M pair and needs both files of a pair", () => {
    const have = (...paths: string[]) => (p: string): boolean => paths.includes(p);
    assert.deepEqual(findOvmf(() => true), OVMF_CANDIDATES[0]);
    assert.deepEqual(findOvmf(have('/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd', '/usr/share/OVMF/OVMF_VARS.fd')), OVMF_CANDIDATES[1]);
    assert.equal(findOvmf(have('/usr/share/OVMF/OVMF_CODE_4M.fd')), undefined);
  });
});

describe('cpuCanVirtualize', () => {
  it('needs vmx or svm among the flags: a /dev/kvm without them cannot run a guest', () => {
    assert.equal(cpuCanVirtualize('processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae vmx ept\n'), true);
    assert.equal(cpuCanVirtualize('flags\t\t: fpu svm npt\n'), true);
    assert.equal(cpuCanVirtualize('flags\t\t: fpu vme hypervisor avx512vbmi\nvmx flags\t: \n'), false);
  });
});

describe('verifyVm', () => {
  const layout: VmLayout = { firmware: 'bios', disks: [], cdDrives: [] };
  const request = (spec: ResolvedSpec) => ({
    disks: [{ path: '/nonexistent.raw', format: 'raw' as const }], firmware: 'bios' as const, layout, spec,
    workDir: '/nonexistent/work', signal: new AbortController().signal, log: () => undefined,
  });

  it('needs a plain root password to log in on the console, and says so before booting anything', async () => {
    const { rootPassword: _, ...noPassword } = recordedSpec();
    await assert.rejects(verifyVm(request(noPassword)), (err: unknown) => err instanceof VmgenError && /gives root no password/.test(err.message) && /root_passwd/.test(err.hint ?? ''));
    await assert.rejects(verifyVm(request({ ...recordedSpec(), rootPassword: { hash: '$y$j9T$x$y' } })), /gives root only a password hash/);
  });
});

describe('bootVm', () => {
  const hasQemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0;

  it("reports qemu's own error when it cannot start the VM, and leaves nothing in the work directory", { skip: !hasQemu && 'qemu-system-x86_64 is not installed' }, async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'vmgen-qemu-test-'));
    try {
      await assert.rejects(
        bootVm({ disks: [{ path: join(workDir, 'missing.raw'), format: 'raw' }], firmware: 'bios', memoryMiB: 128, cpus: 1, accel: 'tcg', workDir, signal: new AbortController().signal, log: () => undefined }),
        /qemu exited before opening its serial console: .*Could not open '.*missing\.raw'/,
      );
      assert.deepEqual(readdirSync(workDir), []);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
