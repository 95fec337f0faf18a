import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from '../../src/orchestrator/build.js';
import { findOs, loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import type { VmConfig } from '../../src/config/model.js';
import { resolveSpec, type ResolvedSpec } from '../../src/config/resolve.js';
import { VmgenError } from '../../src/errors.js';
import { resolveVmLayout, type VmLayout } from '../../src/disks/layout.js';
import { labConfigBypasses, renderAutounattend, windowsLocale } from '../../src/families/windows/autounattend.js';
import { NO_PLATFORM_SECURITY as NONE, platformNeeds, platformOffered } from '../../src/families/platform-security.js';
import { BUILDABLE_TARGETS, findBuildable } from '../../src/targets/commanders.js';
import { WINDOWS_RELEASES } from '../../src/families/windows/releases.js';
import { UNATTEND_DOC_BASE, UNATTEND_SETTINGS } from '../../src/families/windows/unattend-settings.js';
import { assertGolden } from '../helpers/golden.js';

const catalogs = loadCatalogs({ env: {} });

function machine(name: string, os?: string): { spec: ResolvedSpec; layout: VmLayout; config: VmConfig } {
  const loaded = loadConfig(readFileSync(fileURLToPath(new URL(`../fixtures/windows/${name}`, import.meta.url)), 'utf8'), { catalogs });
  if (loaded.config === undefined) throw new Error(`${name} does not load: ${JSON.stringify(loaded.diagnostics)}`);
  const config = os === undefined ? loaded.config : { ...loaded.config, hardware: { ...loaded.config.hardware, os } };
  const spec = resolveSpec(config, catalogs, { target: 'vmware', defaultMirror: 'http://mirror.example/debian' });
  return { spec, layout: resolveVmLayout(config, spec.os, spec.name), config };
}

/**
 * Every element below each component as "Component/Path" with its pass, read by Python's XML
 * parser: an independent reading of the file, not the renderer's own tree.
 */
function componentPaths(xml: string): Array<{ path: string; pass: string; attrs: Record<string, string> }> {
  const script = `
import json, sys, xml.etree.ElementTree as ET
U = '{urn:schemas-microsoft-com:unattend}'
root = ET.fromstring(sys.stdin.read())
assert root.tag == U + 'unattend', root.tag
out = []
def walk(node, prefix, pass_):
    for child in node:
        assert child.tag.startswith(U), child.tag
        path = prefix + '/' + child.tag[len(U):]
        out.append({'path': path, 'pass': pass_, 'attrs': {}})
        walk(child, path, pass_)
for settings in root:
    for comp in settings:
        attrs = {k.split('}')[-1]: v for k, v in comp.attrib.items()}
        out.append({'path': comp.attrib['name'], 'pass': settings.attrib['pass'], 'attrs': attrs})
        walk(comp, comp.attrib['name'], settings.attrib['pass'])
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script], { input: xml, encoding: 'utf8' })) as Array<{ path: string; pass: string; attrs: Record<string, string> }>;
}

function xmllint(xml: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-unattend-'));
  try {
    writeFileSync(join(dir, 'autounattend.xml'), xml);
    execFileSync('xmllint', ['--noout', join(dir, 'autounattend.xml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const COMPONENTS = new Set(['Microsoft-Windows-International-Core-WinPE', 'Microsoft-Windows-Setup', 'Microsoft-Windows-Shell-Setup', 'Microsoft-Windows-International-Core']);

function checkDocumented(xml: string, arch: string): void {
  const found = componentPaths(xml);
  assert.ok(found.length > 40, `${found.length} components`);
  for (const { path, pass, attrs } of found) {
    if (!path.includes('/')) {
      assert.ok(COMPONENTS.has(path), `component ${path}`);
      assert.deepEqual(attrs, {
        name: path, processorArchitecture: arch, publicKeyToken: '31bf3856ad364e35', language: 'neutral', versionScope: 'nonSxS',
      });
      continue;
    }
    const setting = UNATTEND_SETTINGS.get(path);
    assert.ok(setting, `${path} is not in the table of documented settings`);
    assert.ok(setting.passes.includes(pass as never), `${path} is not valid in pass ${pass}`);
  }
  assert.match(xml, /xmlns:wcm="http:\/\/schemas\.microsoft\.com\/WMIConfig\/2002\/State"/);
}

describe('autounattend.xml', () => {
  it('every table entry names its reference page', () => {
    for (const s of UNATTEND_SETTINGS.values()) {
      assert.ok(s.doc.startsWith(UNATTEND_DOC_BASE), s.doc);
      assert.match(s.doc.slice(UNATTEND_DOC_BASE.length), /^microsoft-windows-[a-z-]+$/);
      assert.notEqual(s.passes.length, 0, s.doc);
    }
  });

  it('Windows 10 (UEFI, GPT): ESP, MSR, Windows on partition 3; accounts, autologon, first-logon commands (golden)', () => {
    const { spec, layout } = machine('win10.conf');
    const xml = renderAutounattend(spec, layout, NONE);
    assertGolden('windows/win10/autounattend.xml', xml);
    xmllint(xml);
    checkDocumented(xml, 'amd64');
    assert.match(xml, /<Type>EFI<\/Type>\s*<Size>256<\/Size>/);
    assert.match(xml, /<Type>MSR<\/Type>\s*<Size>16<\/Size>/);
    assert.match(xml, /<InstallTo>\s*<DiskID>0<\/DiskID>\s*<PartitionID>3<\/PartitionID>/);
    assert.match(xml, /<ComputerName>WIN10-DEV<\/ComputerName>/);
    assert.match(xml, /<AdministratorPassword>\s*<Value>R00t&amp;100%\^!<\/Value>/, 'XML-escaped, not batch-escaped');
    assert.match(xml, /<Name>ada<\/Name>\s*<Group>Administrators<\/Group>/, 'only groups that exist during setup');
    assert.match(xml, /<Value>l0ve &amp; &lt;code&gt;<\/Value>/);
    assert.match(xml, /<HideLocalAccountScreen>true<\/HideLocalAccountScreen>/);
    assert.match(xml, /<LogonCount>1<\/LogonCount>/);
    assert.match(xml, /xcopy \/e \/i \/y %d:\\vmgen C:\\vmgen/);
    assert.match(xml, /call C:\\vmgen\\config\.bat/);
    assert.equal((xml.match(/<Disk wcm:action="add">/g) ?? []).length, 1, 'hdd1 has no partitions: left blank');
    assert.doesNotMatch(xml, /<DiskID>1<\/DiskID>/);
    assert.doesNotMatch(xml, /<Active>/, 'UEFI has no active partition');
  });

  it('Windows 7 (BIOS, MBR, x86): the Windows partition is active; no Windows 8 OOBE settings (golden)', () => {
    const { spec, layout } = machine('win10.conf', 'windows7');
    assert.equal(layout.firmware, 'bios');
    const xml = renderAutounattend(spec, layout, NONE);
    assertGolden('windows/win7/autounattend.xml', xml);
    xmllint(xml);
    checkDocumented(xml, 'x86');
    assert.match(xml, /<PartitionID>1<\/PartitionID>\s*<Format>NTFS<\/Format>\s*<Label>Windows<\/Label>\s*<Active>true<\/Active>/);
    assert.match(xml, /<InstallTo>\s*<DiskID>0<\/DiskID>\s*<PartitionID>1<\/PartitionID>/);
    assert.doesNotMatch(xml, /HideLocalAccountScreen|HideOnlineAccountScreens|HideWirelessSetupInOOBE|<Type>EFI|<Type>MSR/);
  });

  it('refuses what Windows Setup cannot do from this file', () => {
    const xp = machine('winxp-seed.conf');
    assert.throws(() => renderAutounattend(xp.spec, xp.layout, NONE), /from Windows Vista on/);
    const w = machine('win10.conf');
    assert.throws(() => renderAutounattend({ ...w.spec, rootPassword: undefined as never }, w.layout, NONE), /root_passwd/);
    const withFs = (fs: 'ext4'): VmLayout => ({ ...w.layout, disks: w.layout.disks.map((d, i) => (i === 1 ? { ...d, partitions: [{ name: 'x', kind: 'primary', fs }] } : d)) });
    const d1 = renderAutounattend(w.spec, { ...w.layout, disks: w.layout.disks.map((d, i) => (i === 1 ? { ...d, partitions: [{ name: 'x', kind: 'primary', fs: 'ntfs' }] } : d)) }, NONE);
    assert.match(d1, /<DiskID>1<\/DiskID>\s*<WillWipeDisk>true<\/WillWipeDisk>\s*<CreatePartitions>\s*<CreatePartition wcm:action="add">\s*<Order>1<\/Order>\s*<Type>Primary<\/Type>\s*<Extend>true/);
    assert.throws(() => renderAutounattend(w.spec, withFs('ext4'), NONE), (e: unknown) => e instanceof VmgenError && /NTFS or FAT32, not ext4/.test(e.message));
    const logical: VmLayout = { ...w.layout, disks: w.layout.disks.map((d, i) => (i === 1 ? { ...d, table: 'mbr', partitions: [{ name: 'l', kind: 'logical', fs: 'ntfs' }] } : d)) };
    assert.throws(() => renderAutounattend(w.spec, logical, NONE), /primary partitions only/);
    const noNtfs: VmLayout = { ...w.layout, disks: w.layout.disks.map((d, i) => (i === 0 ? { ...d, partitions: d.partitions.filter((p) => p.esp === true) } : d)) };
    assert.throws(() => renderAutounattend(w.spec, noNtfs, NONE), /no NTFS partition/);
    assert.equal(findOs(catalogs, 'windows11-64')?.release, '11');
  });

  /*
   * Windows 11 Setup refuses a machine without a TPM 2.0, Secure Boot, 4 GB of memory, 64 GB of
   * storage or two cores (https://www.microsoft.com/en-us/windows/windows-11-specifications).
   * Where the target cannot give the machine what it needs, the answer file sets the LabConfig
   * value that skips that check, as RunSynchronous commands of Microsoft-Windows-Setup in the
   * windowsPE pass, which run before Setup checks (learn.microsoft.com, windows-hardware/customize/
   * desktop/unattend/microsoft-windows-setup-runsynchronous: "Valid Configuration Passes:
   * windowsPE"; its RunSynchronousCommand has Order, Path, Description). The values and the
   * command line are Rufus's (pbatard/rufus, src/wue.c, CreateUnattendXml).
   */
  describe('Windows 11: TPM 2.0 and Secure Boot', () => {
    const w11 = machine('win10.conf', 'windows11-64');
    const commands = (xml: string): string[] => [...xml.matchAll(/<Path>([^<]*)<\/Path>/g)].map((m) => m[1]!);
    const lab = (value: string): string => `reg add HKLM\\SYSTEM\\Setup\\LabConfig /v ${value} /t REG_DWORD /d 1 /f`;

    it('vmware and virtualbox cannot give a TPM or Secure Boot: Setup skips both checks, and storage for a 40 GB disk (golden)', () => {
      for (const id of ['vmware', 'virtualbox']) {
        const offered = platformOffered(findBuildable(id)?.commander.platformSecurity, w11.layout);
        assert.deepEqual(offered, NONE, id);
        const xml = renderAutounattend(w11.spec, w11.layout, offered);
        if (id === 'vmware') assertGolden('windows/win11/autounattend.xml', xml);
        xmllint(xml);
        checkDocumented(xml, 'amd64');
        assert.deepEqual(commands(xml), [lab('BypassTPMCheck'), lab('BypassSecureBootCheck'), lab('BypassStorageCheck')], id);
        // In windowsPE, inside Microsoft-Windows-Setup, before Setup's own settings run.
        const pe = xml.slice(xml.indexOf('<settings pass="windowsPE">'), xml.indexOf('<settings pass="specialize">'));
        assert.match(pe, /<component name="Microsoft-Windows-Setup"[^>]*>\s*<RunSynchronous>\s*<RunSynchronousCommand wcm:action="add">\s*<Order>1<\/Order>/);
      }
    });

    it('qemu gives both (swtpm, secure-boot OVMF): only the checks the machine fails', () => {
      const offered = platformOffered(findBuildable('qemu')?.commander.platformSecurity, w11.layout);
      assert.deepEqual(offered, { tpm2: true, secureBoot: true });
      const xml = renderAutounattend(w11.spec, w11.layout, offered);
      assert.deepEqual(commands(xml), [lab('BypassStorageCheck')]);
      const big = { ...w11.layout, disks: w11.layout.disks.map((d) => ({ ...d, sizeMiB: 64 * 1024 })) };
      assert.doesNotMatch(renderAutounattend(w11.spec, big, offered), /RunSynchronous|LabConfig/, 'a machine that passes every check gets no bypass');
      // Secure Boot is a UEFI feature: a BIOS machine on qemu still needs Setup to skip that check.
      assert.deepEqual(platformOffered(findBuildable('qemu')?.commander.platformSecurity, { ...w11.layout, firmware: 'bios' }), { tpm2: true, secureBoot: false });
    });

    it('memory and cores below the requirements are skipped too; releases before 11 get no LabConfig at all', () => {
      const checks = WINDOWS_RELEASES['11']!.hardwareChecks;
      const all = { tpm2: true, secureBoot: true };
      assert.deepEqual(labConfigBypasses(checks, { platform: all, ramMiB: 2048, cpus: 1, diskMiB: 80_000 }).map((b) => b.value), ['BypassRAMCheck', 'BypassCPUCheck']);
      assert.deepEqual(labConfigBypasses(checks, { platform: all, ramMiB: 4096, cpus: 2, diskMiB: 65_536 }), []);
      for (const release of ['xp', '7', '10', '2022']) assert.equal(WINDOWS_RELEASES[release]!.hardwareChecks, undefined, release);
      assert.doesNotMatch(renderAutounattend(machine('win10.conf').spec, machine('win10.conf').layout, NONE), /LabConfig/);
      assert.deepEqual(platformNeeds(w11.spec.os), { tpm2: true, secureBoot: true });
      assert.deepEqual(platformNeeds(machine('win10.conf').spec.os), NONE);
    });

    it('every VM target either gives the platform or has its answer file skip the check', () => {
      for (const t of BUILDABLE_TARGETS.filter((x) => x.kind === 'vm')) {
        const offered = platformOffered(t.commander.platformSecurity, w11.layout);
        const xml = renderAutounattend(w11.spec, w11.layout, offered);
        assert.equal(xml.includes('BypassTPMCheck'), !offered.tpm2, `${t.id}: TPM`);
        assert.equal(xml.includes('BypassSecureBootCheck'), !offered.secureBoot, `${t.id}: Secure Boot`);
      }
    });
  });

  it('maps POSIX locales to Windows language tags', () => {
    assert.equal(windowsLocale(undefined), 'en-US');
    assert.equal(windowsLocale('de_DE.UTF-8'), 'de-DE');
    assert.equal(windowsLocale('fr_CA'), 'fr-CA');
    assert.throws(() => windowsLocale('C.UTF-8'), /language tag/);
  });
});

describe('vmgen build of a Windows 11 guest for qemu', () => {
  it('ships the secure-boot variable store, a domain with a TPM, run.sh with swtpm, and an answer file that skips neither check', async () => {
    const { config } = machine('win10.conf', 'windows11-64');
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-win11-qemu-'));
    try {
      mkdirSync(join(dir, 'kits'));
      for (const k of ['python-setup.msi', 'gvim-setup.exe', 'node-setup.msi', 'nginx.zip']) writeFileSync(join(dir, 'kits', k), `kit ${k}\n`);
      const result = await build({
        config, catalogs, target: 'qemu', format: 'tar', outDir: join(dir, 'out'), cacheRoot: join(dir, 'cache'), log: () => {},
        targetOptions: { kitsDir: join(dir, 'kits'), baseDisksDir: join(dir, 'kits') },
      });
      const x = join(dir, 'x');
      mkdirSync(x);
      execFileSync('tar', ['-xf', result.archive, '-C', x]);
      assert.ok(readFileSync(join(x, 'win10-dev-OVMF_VARS.fd')).equals(readFileSync('/usr/share/OVMF/OVMF_VARS_4M.ms.fd')), 'run.sh\'s variable store has Microsoft\'s keys, Secure Boot on');
      assert.match(readFileSync(join(x, 'win10-dev.xml'), 'utf8'), /<tpm model="tpm-crb">[\s\S]*<\/devices>/);
      assert.match(readFileSync(join(x, 'run.sh'), 'utf8'), /-device ide-cd,bus=ide\.1,drive=cd1 /, 'the answer ISO on q35\'s AHCI');
      const media = join(dir, 'media');
      execFileSync('xorriso', ['-osirrox', 'on', '-indev', join(x, 'win10-dev-answer.iso'), '-extract', '/', media], { stdio: 'ignore' });
      const xml = readFileSync(join(media, 'autounattend.xml'), 'utf8');
      assert.doesNotMatch(xml, /BypassTPMCheck|BypassSecureBootCheck/);
      assert.match(xml, /BypassStorageCheck/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vmgen build of a Windows 10 guest without a base disk (autounattend, vmware)', () => {
  it('ships blank disks, the install ISO reference and the answer ISO with autounattend.xml, scripts and kits', async () => {
    const { config } = machine('win10.conf');
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-win-answer-'));
    try {
      mkdirSync(join(dir, 'kits'));
      for (const k of ['python-setup.msi', 'gvim-setup.exe', 'node-setup.msi', 'nginx.zip']) writeFileSync(join(dir, 'kits', k), `kit ${k}\n`);
      const lines: string[] = [];
      const result = await build({
        config, catalogs, target: 'vmware', format: 'tar', outDir: join(dir, 'out'), cacheRoot: join(dir, 'cache'), log: (l) => lines.push(l),
        targetOptions: { kitsDir: join(dir, 'kits'), baseDisksDir: join(dir, 'kits') },
      });
      assert.ok(lines.some((l) => /no base disk: Windows Setup installs from the ISO/.test(l)), lines.join('\n'));
      const x = join(dir, 'x');
      mkdirSync(x);
      execFileSync('tar', ['-xf', result.archive, '-C', x]);
      const vmx = readFileSync(join(x, 'win10-dev.vmx'), 'utf8');
      assert.match(vmx, /"\/srv\/iso\/windows10\.iso"/, 'the install ISO from cd_drives');
      assert.match(vmx, /ide\d:\d\.fileName = "win10-dev-answer\.iso"/, 'the answer ISO, shipped');
      assert.match(vmx, /firmware = "efi"/);
      const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', join(x, 'win10-dev-hdd0.vmdk')], { encoding: 'utf8' })) as { 'virtual-size': number };
      assert.equal(info['virtual-size'], 40 * 1024 ** 3);
      const media = join(dir, 'media');
      execFileSync('xorriso', ['-osirrox', 'on', '-indev', join(x, 'win10-dev-answer.iso'), '-extract', '/', media], { stdio: 'ignore' });
      const xml = readFileSync(join(media, 'autounattend.xml'), 'utf8');
      assert.equal(xml, renderAutounattend(machine('win10.conf').spec, machine('win10.conf').layout, NONE));
      assert.match(readFileSync(join(media, 'vmgen/config.bat'), 'utf8'), /Rename-Computer -NewName 'WIN10-DEV'/);
      assert.match(readFileSync(join(media, 'vmgen/setup.bat'), 'utf8'), /msiexec \/i "%KITS%\\node-setup\.msi"/);
      assert.equal(readFileSync(join(media, 'vmgen/kits/nginx.zip'), 'utf8'), 'kit nginx.zip\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
