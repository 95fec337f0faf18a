import assert from 'node:assert/strict';
import { noItem } from '../helpers/assert-values.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { targetOptionsFrom } from '../../src/cli/target-options.js';
import { VmgenError } from '../../src/errors.js';
import { assertNoStack, run } from '../helpers/cli.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/windows/${name}`, import.meta.url));

describe('vmgen render of Windows guests', () => {
  it('XP (base-disk method): config.bat and setup.bat for review, no answer file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-render-win-'));
    try {
      const r = await run('vmgen', ['render', fixture('winxp-seed.conf'), '-t', 'vmware', '-o', join(dir, 'out')]);
      assertNoStack(r.stderr);
      assert.equal(r.code, 0, r.stderr);
      const listed = r.stdout.trim().split('\n').map((p) => p.slice(join(dir, 'out').length + 1));
      for (const p of ['guest/vmgen/config.bat', 'guest/vmgen/setup.bat', 'target/TestMachine.vmx']) assert.ok(listed.includes(p), `${p} in ${listed.join(', ')}`);
      noItem(listed, (p) => p.startsWith('answer/'));
      // The partition table is the base disk's layout; a Linux fstab means nothing to Windows.
      assert.ok(listed.includes('target/partitions/TestMachine-hdd0.sfdisk'), listed.join(', '));
      assert.ok(!listed.includes('target/partitions/fstab'), listed.join(', '));
      const configBat = readFileSync(join(dir, 'out/guest/vmgen/config.bat'), 'utf8');
      assert.match(configBat, /netsh firewall add portopening protocol=TCP port=22 name="ssh"/);
      // hw_addr = 00:50:56:00:be:ef in the config: looked up at run time in wmic's own spelling.
      assert.match(configBat, /\('wmic nic where "MACAddress='00:50:56:00:BE:EF' and NetConnectionID is not null" get NetConnectionID \/value /);
      assert.match(configBat, /^if defined VMGEN_NIC netsh interface ip set address name="!VMGEN_NIC!" source=static addr=192\.168\.1\.2 /m);
      assert.match(configBat, /^net user Administrator "pass2" \/Y\r$/m);
      assert.match(readFileSync(join(dir, 'out/guest/vmgen/setup.bat'), 'utf8'), /msiexec \/i "%KITS%\\python-setup\.msi" \/qn/);
      assert.match(readFileSync(join(dir, 'out/target/TestMachine.vmx'), 'utf8'), /guestOS = "winxppro"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Windows 10: the answer media (autounattend.xml, vmgen\\config.bat, vmgen\\setup.bat) too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-render-win-'));
    try {
      const r = await run('vmgen', ['render', fixture('win10.conf'), '-t', 'vmware', '-o', join(dir, 'out')]);
      assert.equal(r.code, 0, r.stderr);
      for (const p of ['answer/autounattend.xml', 'answer/vmgen/config.bat', 'answer/vmgen/setup.bat', 'guest/vmgen/config.bat']) {
        assert.ok(r.stdout.includes(join(dir, 'out', p)), p);
      }
      assert.equal(readFileSync(join(dir, 'out/answer/vmgen/config.bat'), 'utf8'), readFileSync(join(dir, 'out/guest/vmgen/config.bat'), 'utf8'));
      assert.match(readFileSync(join(dir, 'out/answer/autounattend.xml'), 'utf8'), /<ComputerName>WIN10-DEV<\/ComputerName>/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vmgen render of Windows Server 2022: the services script and what config.bat reads beside itself', () => {
  it('shows vmgen-services.ps1, the inline files and first-logon scripts, in the guest and on the answer media', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-render-win2022-'));
    try {
      const r = await run('vmgen', ['render', fixture('win2022-lab.conf'), '-t', 'qemu', '-o', join(dir, 'out')]);
      assertNoStack(r.stderr);
      assert.equal(r.code, 0, r.stderr);
      const listed = r.stdout.trim().split('\n').map((p) => p.slice(join(dir, 'out').length + 1));
      for (const p of ['guest/vmgen/vmgen-services.ps1', 'answer/vmgen/vmgen-services.ps1', 'answer/vmgen/config.bat', 'answer/vmgen/setup.bat',
        'answer/vmgen/files/2', 'answer/vmgen/first-logon.bat', 'answer/vmgen/first-logon/1.bat']) {
        assert.ok(listed.includes(p), `${p} in ${listed.join(', ')}`);
      }
      const golden = readFileSync(fileURLToPath(new URL('../golden/windows/win2022/vmgen-services.ps1', import.meta.url)), 'utf8');
      assert.equal(readFileSync(join(dir, 'out/answer/vmgen/vmgen-services.ps1'), 'utf8'), golden);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vmgen render of Windows 11: TPM and Secure Boot from the target, else skipped by Setup', () => {
  it('qemu gives the machine swtpm and Secure Boot, so the answer file skips neither check; vmware cannot, so it skips both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-render-win11-'));
    try {
      const q = await run('vmgen', ['render', fixture('win11.conf'), '-t', 'qemu', '-o', join(dir, 'qemu')]);
      assertNoStack(q.stderr);
      assert.equal(q.code, 0, q.stderr);
      const domain = readFileSync(join(dir, 'qemu/target/win11-dev.xml'), 'utf8');
      assert.match(domain, /<tpm model="tpm-crb">/);
      assert.match(domain, /secure="yes"/);
      assert.match(readFileSync(join(dir, 'qemu/target/run.sh'), 'utf8'), /\nswtpm socket --tpm2 /);
      const qemuXml = readFileSync(join(dir, 'qemu/answer/autounattend.xml'), 'utf8');
      assert.doesNotMatch(qemuXml, /BypassTPMCheck|BypassSecureBootCheck/);
      assert.match(qemuXml, /LabConfig \/v BypassStorageCheck /, 'the 40 GB disk is below the 64 GB Setup checks for');
      const v = await run('vmgen', ['render', fixture('win11.conf'), '-t', 'vmware', '-o', join(dir, 'vmware')]);
      assert.equal(v.code, 0, v.stderr);
      const vmwareXml = readFileSync(join(dir, 'vmware/answer/autounattend.xml'), 'utf8');
      assert.match(vmwareXml, /LabConfig \/v BypassTPMCheck /);
      assert.match(vmwareXml, /LabConfig \/v BypassSecureBootCheck /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vmgen verify of Windows guests', () => {
  it('is refused before anything starts, naming the reason, instead of waiting for a Linux login', async () => {
    const r = await run('vmgen', ['verify', '/nonexistent/win10.tar', '--config', fixture('win10.conf')]);
    assertNoStack(r.stderr);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /vmgen verify checks Linux guests; it cannot check a Windows 10/);
    assert.match(r.stderr, /vmgen render/);
  });
});

describe('vmgen build options for Windows guests', () => {
  it('--kits and --base-disks take absolute directories', () => {
    assert.deepEqual(targetOptionsFrom({ kits: '/srv/kits', baseDisks: '/srv/base' }), { kitsDir: '/srv/kits', baseDisksDir: '/srv/base' });
    assert.throws(() => targetOptionsFrom({ kits: 'kits' }), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_USAGE');
    assert.throws(() => targetOptionsFrom({ baseDisks: '/a\nb' }), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_USAGE');
  });

  it('a missing kit is reported by the CLI before the build starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-build-win-'));
    try {
      const r = await run('vmgen', ['build', fixture('winxp-seed.conf'), '-t', 'vmware', '-o', join(dir, 'out'), '--cache-dir', join(dir, 'cache'), '--kits', dir, '--base-disks', dir]);
      assertNoStack(r.stderr);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /missing in .*: python-setup\.msi \(for python\), emacs\.zip \(for emacs\)/);
      assert.doesNotMatch(r.stderr, /check host tools/, 'no step ran');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
