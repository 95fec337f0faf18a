import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll } from '../helpers/assert-values.js';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedSpec } from '../../src/config/resolve.js';
import type { VmLayout } from '../../src/disks/layout.js';
import {
  KVM_PROBE_STATUS, QEMU_BINARY, RUN_SH_TPM_STATE, qemuArgs, qemuMachine, qemuPlatform, renderLibvirtHostonlyNetwork, renderLibvirtXml,
  renderRunSh, shellQuote, type QemuOptions,
} from '../../src/targets/qemu/render.js';
import { SCSI_MODELS, qemuScsiModel } from '../../src/targets/qemu/controllers.js';
import { loadCatalogs } from '../../src/catalog/load.js';
import { CONTROLLER_MODELS } from '../../src/catalog/controllers.js';
import { kernelOf } from '../../src/catalog/families.js';
import { VM_INITRAMFS_DRIVERS } from '../../src/disks/initramfs-drivers.js';
import { qemuTarget } from '../../src/targets/qemu/index.js';
import { loadConfig } from '../../src/validate/load.js';
import { resolveSpec } from '../../src/config/resolve.js';
import { resolveVmLayout } from '../../src/disks/layout.js';
import { withAnswerDrive } from '../../src/families/windows/build.js';
import { assertGolden } from '../helpers/golden.js';
import { VM_CASE_NAMES, diskFiles, vmCase, vmCaseFromFile, type VmCaseName } from './vm-specs.js';

const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const OVMF_SECBOOT_CODE = '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd';
const OVMF_MS_VARS = '/usr/share/OVMF/OVMF_VARS_4M.ms.fd';
const GOLDEN = fileURLToPath(new URL('../golden/qemu/', import.meta.url));

/** What the qemu packager passes: disks under libvirt's image folder for the XML, next to run.sh for the script. */
function libvirtOptions(spec: ResolvedSpec, layout: VmLayout): QemuOptions {
  const secure = qemuPlatform(spec, layout).secureBoot;
  const vars = `/var/lib/libvirt/qemu/nvram/${spec.name}_VARS.fd`;
  return {
    diskPaths: diskFiles(layout, 'qcow2', `/var/lib/libvirt/images/${spec.name}/`),
    isoPaths: Object.fromEntries(layout.cdDrives.filter((c) => c.path !== undefined && !c.path.startsWith('/')).map((c) => [c.name, `/var/lib/libvirt/images/${c.path!}`])),
    ...(layout.firmware === 'efi' ? { ovmf: secure ? { code: OVMF_SECBOOT_CODE, vars, varsTemplate: OVMF_MS_VARS } : { code: OVMF_CODE, vars } } : {}),
  };
}

function runOptions(spec: ResolvedSpec, layout: VmLayout): QemuOptions {
  const secure = qemuPlatform(spec, layout).secureBoot;
  return {
    diskPaths: diskFiles(layout, 'qcow2'),
    isoPaths: {},
    ...(layout.firmware === 'efi' ? { ovmf: { code: secure ? OVMF_SECBOOT_CODE : OVMF_CODE, vars: `${spec.name}-OVMF_VARS.fd` } } : {}),
  };
}

/**
 * Windows 11 on qemu as the Windows build hands it over: the win10 fixture with Windows 11, its
 * install ISO on IDE and the answer ISO in the next free IDE position.
 */
function win11(): { spec: ResolvedSpec; layout: VmLayout } {
  const catalogs = loadCatalogs({ env: {} });
  const loaded = loadConfig(readFileSync(fileURLToPath(new URL('../fixtures/windows/win10.conf', import.meta.url)), 'utf8'), { catalogs });
  if (loaded.config === undefined) throw new Error(JSON.stringify(loaded.diagnostics));
  const config = { ...loaded.config, hardware: { ...loaded.config.hardware, os: 'windows11-64' } };
  const spec = resolveSpec(config, catalogs, { target: 'qemu', defaultMirror: 'http://mirror.example/debian' });
  return { spec, layout: withAnswerDrive(resolveVmLayout(config, spec.os, spec.name), `${spec.name}-answer.iso`) };
}
const w11 = win11();

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-qemu-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The argument after each occurrence of a flag. */
function values(argv: readonly string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));
}

const web = vmCase('web', 'qemu');
const devices = vmCase('devices', 'qemu');

describe('QEMU golden files', () => {
  for (const name of VM_CASE_NAMES) {
    it(`renders ${name}`, () => {
      const { spec, layout } = vmCase(name, 'qemu');
      assertGolden(`qemu/${name}/${spec.name}.xml`, renderLibvirtXml(spec, layout, libvirtOptions(spec, layout)));
      assertGolden(`qemu/${name}/run.sh`, renderRunSh(spec, layout, runOptions(spec, layout)));
    });
  }

  it('renders Windows 11: TPM 2.0, Secure Boot, q35 with the IDE CDs on its AHCI ports', () => {
    assertGolden(`qemu/win11/${w11.spec.name}.xml`, renderLibvirtXml(w11.spec, w11.layout, libvirtOptions(w11.spec, w11.layout)));
    assertGolden('qemu/win11/run.sh', renderRunSh(w11.spec, w11.layout, runOptions(w11.spec, w11.layout)));
  });

  it('renders the host-only network', () => {
    assertGolden('qemu/vmgen-hostonly-network.xml', renderLibvirtHostonlyNetwork());
  });
});

describe('libvirt domain XML', () => {
  const validator = has('virt-xml-validate') && has('xmllint');

  function validate(t: { after(fn: () => void): void }, xml: string, schema: 'domain' | 'network'): void {
    const file = join(tempDir(t), `${schema}.xml`);
    writeFileSync(file, xml);
    const r = spawnSync('virt-xml-validate', [file, schema], { encoding: 'utf8' });
    assert.equal(r.status, 0, `virt-xml-validate ${schema}: ${r.stdout}${r.stderr}`);
  }

  it('every golden domain validates against the installed libvirt schema', { skip: !validator && 'virt-xml-validate or xmllint missing' }, () => {
    for (const name of VM_CASE_NAMES) {
      const { spec } = vmCase(name, 'qemu');
      const r = spawnSync('virt-xml-validate', [join(GOLDEN, name, `${spec.name}.xml`), 'domain'], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
    }
    const r = spawnSync('virt-xml-validate', [join(GOLDEN, 'vmgen-hostonly-network.xml'), 'network'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const w = spawnSync('virt-xml-validate', [join(GOLDEN, 'win11', `${w11.spec.name}.xml`), 'domain'], { encoding: 'utf8' });
    assert.equal(w.status, 0, `win11: ${w.stdout}${w.stderr}`);
  });

  /*
   * libvirt's domain format (https://libvirt.org/formatdomain.html): "TPM device" — model
   * 'tpm-crb', <backend type='emulator' version='2.0'/>, libvirt runs swtpm itself; "BIOS
   * bootloader" — secure='yes' on <loader> needs the SMM feature (<smm state='on'/>, "Hypervisor
   * features"), which only q35 has; <nvram template=…> names the store libvirt copies.
   */
  it('Windows 11: a TPM 2.0 emulated by swtpm, the secure-boot OVMF build with SMM, on q35', () => {
    const xml = renderLibvirtXml(w11.spec, w11.layout, libvirtOptions(w11.spec, w11.layout));
    assert.match(xml, /<tpm model="tpm-crb">\n {6}<backend type="emulator" version="2\.0"\/>\n {4}<\/tpm>/);
    assert.match(xml, /<type arch="x86_64" machine="q35">hvm<\/type>/);
    assert.match(xml, /<loader readonly="yes" secure="yes" type="pflash">\/usr\/share\/OVMF\/OVMF_CODE_4M\.secboot\.fd<\/loader>/);
    assert.match(xml, /<nvram template="\/usr\/share\/OVMF\/OVMF_VARS_4M\.ms\.fd">\/var\/lib\/libvirt\/qemu\/nvram\/win10-dev_VARS\.fd<\/nvram>/);
    assert.match(xml, /<features>\n {4}<acpi\/>\n {4}<apic\/>\n {4}<smm state="on"\/>\n {2}<\/features>/);
    // q35 has no IDE: the install and answer CDs sit on ports 0 and 1 of its own AHCI controller.
    assert.match(xml, /<source file="\/srv\/iso\/windows10\.iso"\/>\n {6}<target dev="sdc" bus="sata"\/>\n {6}<readonly\/>\n {6}<address type="drive" controller="0" bus="0" target="0" unit="0"\/>/);
    assert.match(xml, /<target dev="sdd" bus="sata"\/>\n {6}<readonly\/>\n {6}<address type="drive" controller="0" bus="0" target="0" unit="1"\/>/);
    assert.doesNotMatch(xml, /bus="ide"/);
    // Windows has no virtio-blk driver of its own (Red Hat's virtio-win is not in Windows): its NVMe
    // disks are SATA in the domain XML, on a controller after q35's built-in one.
    assert.match(xml, /<source file="[^"]*win10-dev-hdd0\.qcow2"\/>\n {6}<target dev="sda" bus="sata"\/>\n {6}<boot order="1"\/>\n {6}<address type="drive" controller="1" bus="0" target="0" unit="0"\/>/);
    assert.match(xml, /<controller type="sata" index="1"\/>/);
    assert.doesNotMatch(xml, /bus="virtio"/);
    // Windows 10 needs neither: the same machine without them.
    const w10 = { ...w11.spec, os: { ...w11.spec.os, release: '10' } };
    const plain = renderLibvirtXml(w10, w11.layout, { ...libvirtOptions(w10, w11.layout), ovmf: { code: OVMF_CODE, vars: '/v.fd' } });
    assert.doesNotMatch(plain, /<tpm|<smm|secure=|machine="q35"/);
    assert.match(plain, /machine="pc"/);
  });

  it('Windows 11 with libvirt choosing the firmware: asks for Secure Boot with enrolled keys, and validates', { skip: !validator && 'virt-xml-validate missing' }, (t) => {
    const xml = renderLibvirtXml(w11.spec, w11.layout, { ...libvirtOptions(w11.spec, w11.layout), ovmf: undefined });
    assert.match(xml, /<os firmware="efi">\n.*\n {4}<firmware>\n {6}<feature enabled="yes" name="secure-boot"\/>\n {6}<feature enabled="yes" name="enrolled-keys"\/>/);
    validate(t, xml, 'domain');
  });

  it('lets libvirt pick OVMF when no paths are given, and that validates too', { skip: !validator && 'virt-xml-validate missing' }, (t) => {
    const xml = renderLibvirtXml(web.spec, web.layout, { ...libvirtOptions(web.spec, web.layout), ovmf: undefined });
    assert.match(xml, /<os firmware="efi">/);
    assert.doesNotMatch(xml, /<loader/);
    validate(t, xml, 'domain');
  });

  it('describes the machine: q35 with pflash OVMF for UEFI, pc for IDE devices', () => {
    const xml = renderLibvirtXml(web.spec, web.layout, libvirtOptions(web.spec, web.layout));
    assert.match(xml, /<type arch="x86_64" machine="q35">hvm<\/type>/);
    assert.match(xml, /<loader readonly="yes" type="pflash">\/usr\/share\/OVMF\/OVMF_CODE_4M.fd<\/loader>/);
    assert.match(xml, /<nvram>\/var\/lib\/libvirt\/qemu\/nvram\/web1_VARS.fd<\/nvram>/);
    assert.match(xml, /<memory unit="MiB">1024<\/memory>\n {2}<vcpu>2<\/vcpu>/);
    const lab = renderLibvirtXml(devices.spec, devices.layout, libvirtOptions(devices.spec, devices.layout));
    assert.match(lab, /machine="pc"/);
    assert.doesNotMatch(lab, /<loader|<nvram|firmware=/);
  });

  it('maps controllers and disks: SCSI models, NVMe as virtio-blk, CD drives read-only, one boot disk', () => {
    // web1 is UEFI with a PVSCSI disk: virtio-scsi, which OVMF boots from; the BIOS lab keeps its LSI SAS.
    const xml = renderLibvirtXml(web.spec, web.layout, libvirtOptions(web.spec, web.layout));
    assert.match(xml, /<controller type="scsi" index="0" model="virtio-scsi"\/>/);
    assert.match(xml, /<target dev="sda" bus="scsi"\/>/);
    const lab = renderLibvirtXml(devices.spec, devices.layout, libvirtOptions(devices.spec, devices.layout));
    assert.match(lab, /<controller type="scsi" index="0" model="lsisas1068"\/>/);
    assert.match(lab, /<controller type="sata" index="0"\/>/);
    assert.match(lab, /<source file="\/var\/lib\/libvirt\/images\/lab1\/lab1-hdd1.qcow2"\/>\n {6}<target dev="vda" bus="virtio"\/>/);
    assert.match(lab, /<source file="\/srv\/iso\/debian-12-amd64-netinst.iso"\/>\n {6}<target dev="hdc" bus="ide"\/>\n {6}<readonly\/>/);
    assert.match(lab, /<address type="drive" controller="0" bus="1" target="0" unit="0"\/>/);
    assert.equal(lab.match(/<boot order="1"\/>/g)?.length, 1);
    // The unplugged SATA drive has no medium.
    assert.match(lab, /<driver name="qemu" type="raw"\/>\n {6}<target dev="sdb" bus="sata"\/>/);
  });

  it('maps NICs: networks and bridges, MAC, model, link down when unplugged', () => {
    const lab = renderLibvirtXml(devices.spec, devices.layout, libvirtOptions(devices.spec, devices.layout));
    assert.match(lab, /<interface type="bridge">\n {6}<mac address="00:50:56:00:20:01"\/>\n {6}<source bridge="br0"\/>\n {6}<model type="virtio"\/>\n {4}<\/interface>/);
    assert.match(lab, /<interface type="network">\n {6}<source network="vmgen-hostonly"\/>\n {6}<model type="virtio"\/>\n {6}<link state="down"\/>/);
    assert.match(renderLibvirtXml(web.spec, web.layout, libvirtOptions(web.spec, web.layout)), /<source network="default"\/>/);
  });

  it('gives each guest the card it has an in-box driver for: e1000 for XP, e1000e for Windows 11, virtio for Linux', () => {
    // XP and 7 ship Intel's PRO/1000 (e1000) driver and none for e1000e or virtio-net; the OS table's `nic` says so.
    const xp = vmCaseFromFile('../fixtures/vm/winxp.conf', 'qemu');
    assert.equal(xp.spec.os.nic, 'e1000');
    assert.match(renderLibvirtXml(xp.spec, xp.layout, libvirtOptions(xp.spec, xp.layout)), /<model type="e1000"\/>/);
    assert.ok(qemuArgs(xp.spec, xp.layout, runOptions(xp.spec, xp.layout)).some((a) => a.startsWith('e1000,netdev=')), 'XP gets -device e1000');
    assert.ok(qemuArgs(web.spec, web.layout, runOptions(web.spec, web.layout)).some((a) => a.startsWith('virtio-net-pci,netdev=')), 'Linux gets virtio-net-pci');
  });

  it('refuses relative paths, which libvirt would resolve against its own working directory', () => {
    assert.throws(() => renderLibvirtXml(web.spec, web.layout, runOptions(web.spec, web.layout)), /absolute path/);
  });

  it('escapes XML', () => {
    const xml = renderLibvirtXml({ ...web.spec, name: 'a<b>&"c"' }, web.layout, { ...libvirtOptions(web.spec, web.layout), ovmf: undefined });
    assert.match(xml, /<name>a&lt;b&gt;&amp;&quot;c&quot;<\/name>/);
  });
});

/**
 * The SCSI controllers QEMU has that OVMF can boot from as edk2 builds it by default, with the edk2
 * driver that does it. OvmfPkg/OvmfPkgX64.dsc builds OvmfPkg/VirtioScsiDxe unconditionally; PvScsiDxe
 * (pvscsi), MptScsiDxe (mptsas1068) and LsiScsiDxe (lsi53c895a) only with -D PVSCSI_ENABLE / MPT_SCSI_ENABLE
 * / LSI_SCSI_ENABLE=TRUE, which default to FALSE (edk2-stable202211, the ovmf 2022.11 of Debian 12:
 * OvmfPkgX64.dsc lines 57-59 and 885-895; PvScsi and MptScsi since commit 57783adf, "OvmfPkg: Change
 * default to disable MptScsi and PvScsi", edk2-stable202208; today in OvmfPkg/Include/Dsc/OvmfOptHwDefines.dsc.inc).
 * Seen with Debian 12's OVMF_CODE_4M.fd: a disk on virtio-scsi-pci gets a boot option, on pvscsi,
 * mptsas1068 or lsi53c895a none.
 */
const OVMF_DEFAULT_SCSI_DRIVERS: Readonly<Record<string, string>> = { 'virtio-scsi-pci': 'OvmfPkg/VirtioScsiDxe' };
/** The Linux module of each SCSI controller the qemu target emits. */
const LINUX_SCSI_MODULES: Readonly<Record<string, string>> = { 'virtio-scsi-pci': 'virtio_scsi', mptsas1068: 'mptsas', pvscsi: 'vmw_pvscsi' };
/** Windows' in-box driver of each SCSI controller the qemu target may give it (lsi_sas.sys: LSI SAS 1068/1064, since Vista). */
const WINDOWS_INBOX_SCSI: Readonly<Record<string, string>> = { mptsas1068: 'lsi_sas' };

describe('SCSI controllers by firmware and guest', () => {
  const catalogs = loadCatalogs({ env: {} });
  const scsiModels = CONTROLLER_MODELS.filter((m) => SCSI_MODELS[m] !== undefined);

  it('gives a UEFI Linux guest only SCSI controllers OVMF\'s default build boots from and its initramfs drives', () => {
    assert.deepEqual(scsiModels, ['lsilogic', 'buslogic', 'lsisas1068', 'pvscsi']);
    for (const os of catalogs.os.filter((o) => kernelOf(o) === 'linux')) {
      for (const model of scsiModels) {
        const qemu = qemuScsiModel(model, os, 'efi')!.qemu;
        assert.ok(OVMF_DEFAULT_SCSI_DRIVERS[qemu] !== undefined, `${os.id}, ${model}: ${qemu} has no driver in OVMF's default build`);
        assert.ok(VM_INITRAMFS_DRIVERS.includes(LINUX_SCSI_MODULES[qemu]!), `${os.id}, ${model}: the VM initramfs lacks ${qemu}'s driver`);
      }
    }
  });

  it('keeps a Windows guest on a SCSI controller it has an in-box driver for, whatever the firmware (OVMF cannot boot it: a known gap)', () => {
    for (const os of catalogs.os.filter((o) => kernelOf(o) === 'windows')) {
      for (const model of scsiModels.filter((m) => m !== 'pvscsi')) {
        for (const firmware of ['bios', 'efi'] as const) {
          const qemu = qemuScsiModel(model, os, firmware)!.qemu;
          assert.ok(WINDOWS_INBOX_SCSI[qemu] !== undefined, `${os.id}, ${model}, ${firmware}: Windows has no in-box driver for ${qemu}`);
        }
      }
    }
  });

  it('keeps the layout\'s model under BIOS, which SeaBIOS boots (mpt-scsi, pvscsi) and older kernels without virtio_scsi drive', () => {
    for (const os of catalogs.os) {
      for (const model of scsiModels) assert.equal(qemuScsiModel(model, os, 'bios'), SCSI_MODELS[model]);
    }
    assert.equal(qemuScsiModel('nvme', catalogs.os[0]!, 'efi'), undefined);
  });

  it('checks units against the model the guest gets: virtio-scsi has room for all of the layout\'s', () => {
    const web = readFileSync(fileURLToPath(new URL('../../examples/debian-web.conf', import.meta.url)), 'utf8');
    const codes = (firmware: 'bios' | 'efi'): string[] => {
      const text = web.replace('    ram = 1GB\n', `    ram = 1GB\n    firmware = ${firmware}\n`).replace('            size = 4GB\n', '            size = 4GB\n            type = lsilogic\n            pos = 0:12\n');
      return loadConfig(text, { catalogs, target: qemuTarget }).diagnostics.map((d) => d.code);
    };
    assert.deepEqual(codes('efi').filter((c) => c === 'CFG_TARGET_UNIT'), []);
    assert.deepEqual(codes('bios').filter((c) => c === 'CFG_TARGET_UNIT'), ['CFG_TARGET_UNIT']);
  });
});

describe('qemuArgs', () => {
  it('is the hardware only: program first, no serial, display or monitor', () => {
    const argv = qemuArgs(web.spec, web.layout, runOptions(web.spec, web.layout));
    assert.equal(argv[0], QEMU_BINARY);
    for (const flag of ['-serial', '-display', '-monitor', '-qmp']) assert.ok(!argv.includes(flag), flag);
    assert.deepEqual(values(argv, '-machine'), ['q35']);
    assert.deepEqual(values(argv, '-accel'), ['kvm', 'tcg']);
    assert.deepEqual(values(argv, '-smp'), ['2']);
    assert.deepEqual(values(argv, '-m'), ['1024M']);
    includesAll(argv, ['-nodefaults']);
  });

  it('maps the layout to devices', () => {
    const web1 = qemuArgs(web.spec, web.layout, runOptions(web.spec, web.layout));
    assert.deepEqual(values(web1, '-drive'), [
      `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
      'if=pflash,format=raw,unit=1,file=web1-OVMF_VARS.fd',
      'if=none,id=disk0,file=web1-hdd0.qcow2,format=qcow2,discard=unmap',
    ]);
    assert.deepEqual(values(web1, '-device').slice(1, 3), ['virtio-scsi-pci,id=scsi0', 'scsi-hd,bus=scsi0.0,scsi-id=0,drive=disk0,bootindex=0']);
    assert.deepEqual(values(web1, '-netdev'), ['user,id=net0']);
    includesAll(values(web1, '-device'), ['virtio-net-pci,netdev=net0,mac=00:50:56:00:10:01']);
    const lab = qemuArgs(devices.spec, devices.layout, runOptions(devices.spec, devices.layout));
    assert.deepEqual(values(lab, '-machine'), ['pc']);
    assert.deepEqual(values(lab, '-device').slice(1), [
      'mptsas1068,id=scsi0', 'scsi-hd,bus=scsi0.0,scsi-id=0,drive=disk0,bootindex=0',
      'nvme,id=nvme0,serial=vmgen-nvme0', 'nvme-ns,bus=nvme0,nsid=1,drive=disk1',
      'ide-cd,bus=ide.1,unit=0,drive=cd0',
      'ahci,id=sata0', 'ide-cd,bus=sata0.0,drive=cd1',
      'virtio-net-pci,netdev=net0,mac=00:50:56:00:20:01', 'virtio-net-pci,netdev=net1',
    ]);
    includesAll(values(lab, '-drive'), ['if=none,id=cd0,media=cdrom,readonly=on,file=/srv/iso/debian-12-amd64-netinst.iso,format=raw', 'if=none,id=cd1,media=cdrom']);
    assert.deepEqual(values(lab, '-netdev'), ['bridge,id=net0,br=br0', 'hubport,id=net1,hubid=1']);
  });

  it('gives host-only NICs a user network that reaches no one', () => {
    const spec = { ...devices.spec, nics: devices.spec.nics.map((n) => ({ ...n, connected: true })) };
    assert.deepEqual(values(qemuArgs(spec, devices.layout, runOptions(spec, devices.layout)), '-netdev'), ['bridge,id=net0,br=br0', 'user,id=net1,restrict=on']);
  });

  it('doubles commas in values, QEMU\'s escape', () => {
    const argv = qemuArgs(web.spec, web.layout, { ...runOptions(web.spec, web.layout), diskPaths: { hdd0: 'a,b.qcow2' } });
    includesAll(values(argv, '-drive'), ['if=none,id=disk0,file=a,,b.qcow2,format=qcow2,discard=unmap']);
  });

  it('refuses what QEMU cannot start', () => {
    assert.throws(() => qemuArgs(web.spec, web.layout, { ...runOptions(web.spec, web.layout), ovmf: undefined }), /needs opts.ovmf/);
    const disk = { ...web.layout.disks[0]!, controller: 'sata' as const, unit: 6 };
    assert.throws(() => qemuArgs(web.spec, { ...web.layout, disks: [disk] }, runOptions(web.spec, web.layout)), /sata0:6: QEMU's AHCI controller has units 0 to 5/);
    // Under BIOS an LSI Logic disk is on QEMU's LSI SAS1068 (units 0 to 8); under UEFI on virtio-scsi, which has room.
    const lsi = { ...web.layout.disks[0]!, controller: 'lsilogic' as const, unit: 9 };
    const bios = { ...web.layout, firmware: 'bios' as const, disks: [lsi] };
    assert.throws(() => qemuArgs(web.spec, bios, runOptions(web.spec, bios)), /scsi0:9: QEMU's mptsas1068 controller has units 0 to 8/);
    includesAll(values(qemuArgs(web.spec, { ...web.layout, disks: [lsi] }, runOptions(web.spec, web.layout)), '-device'), ['virtio-scsi-pci,id=scsi0', 'scsi-hd,bus=scsi0.0,scsi-id=9,drive=disk0,bootindex=0']);
    assert.throws(() => qemuArgs(devices.spec, devices.layout, { diskPaths: {}, isoPaths: {} }), /no disk path given for disk hdd0/);
  });

  it('picks q35 unless an IDE device needs the i440FX machine; Secure Boot needs q35 whatever the devices', () => {
    assert.equal(qemuMachine(web.spec, web.layout), 'q35');
    assert.equal(qemuMachine(devices.spec, devices.layout), 'pc');
    assert.equal(qemuMachine(w11.spec, w11.layout), 'q35');
    assert.equal(qemuMachine(w11.spec, { ...w11.layout, firmware: 'bios' }), 'pc', 'no Secure Boot under BIOS');
  });

  /*
   * QEMU's TPM docs (https://www.qemu.org/docs/master/specs/tpm.html, "The QEMU TPM emulator
   * device"): -chardev socket to swtpm's control socket, -tpmdev emulator, -device tpm-crb; OVMF's
   * secure-boot build needs -machine q35,smm=on and -global driver=cfi.pflash01,property=secure,value=on
   * (edk2's OvmfPkg/README, "SMM support").
   */
  it('Windows 11: swtpm socket, TPM CRB, SMM and the locked pflash', () => {
    const opts = { ...runOptions(w11.spec, w11.layout), tpmSocket: '/run/t,pm.sock' };
    const argv = qemuArgs(w11.spec, w11.layout, opts);
    assert.deepEqual(values(argv, '-machine'), ['q35,smm=on']);
    assert.deepEqual(values(argv, '-global'), ['driver=cfi.pflash01,property=secure,value=on']);
    assert.deepEqual(values(argv, '-chardev'), ['socket,id=chrtpm,path=/run/t,,pm.sock']);
    assert.deepEqual(values(argv, '-tpmdev'), ['emulator,id=tpm0,chardev=chrtpm']);
    assert.ok(values(argv, '-device').includes('tpm-crb,tpmdev=tpm0'), values(argv, '-device').join(' '));
    assert.ok(values(argv, '-drive').includes(`if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_SECBOOT_CODE}`), values(argv, '-drive').join(' '));
    assert.ok(values(argv, '-device').includes('ide-cd,bus=ide.0,drive=cd0'), 'IDE primary master is AHCI port 0 on q35');
    assert.ok(values(argv, '-device').includes('ide-cd,bus=ide.1,drive=cd1'), 'IDE primary slave is AHCI port 1 on q35');
    assert.throws(() => qemuArgs(w11.spec, w11.layout, runOptions(w11.spec, w11.layout)), /needs opts.tpmSocket/);
    assert.deepEqual(values(qemuArgs(w11.spec, w11.layout, { ...opts, accel: 'tcg' }), '-accel'), ['tcg']);
  });

  // Device names, bus names and unit limits are what QEMU checks at start, before the guest runs.
  for (const name of VM_CASE_NAMES) {
    it(`starts qemu-system-x86_64 with the ${name} machine (stopped, then quit over QMP)`, { skip: !has(QEMU_BINARY) && `${QEMU_BINARY} missing` }, (t) => {
      const { spec, layout } = vmCase(name, 'qemu');
      const dir = tempDir(t);
      for (const d of layout.disks) spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, `${d.file}.qcow2`), '16M']);
      const isoPaths = Object.fromEntries(layout.cdDrives.filter((c) => c.path).map((c) => [c.name, join(dir, `${c.name}.iso`)]));
      for (const iso of Object.values(isoPaths)) writeFileSync(iso, '');
      const ovmf = layout.firmware === 'efi' && existsSync(OVMF_CODE) ? { code: OVMF_CODE, vars: join(dir, 'vars.fd') } : undefined;
      if (ovmf) copyFileSync(OVMF_VARS, ovmf.vars);
      if (layout.firmware === 'efi' && !ovmf) return t.skip('OVMF missing');
      // A bridge needs qemu-bridge-helper's configuration on the host; the other netdevs need nothing.
      const noBridge = { ...spec, nics: spec.nics.map((n) => (n.link === 'bridged' ? { ...n, link: 'nat' as const } : n)) };
      const argv = qemuArgs(noBridge, layout, { diskPaths: diskFiles(layout, 'qcow2', `${dir}/`), isoPaths, ...(ovmf ? { ovmf } : {}) });
      const r = spawnSync(argv[0], [...argv.slice(1), '-S', '-display', 'none', '-qmp', 'stdio'], {
        input: '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n', encoding: 'utf8', timeout: 60_000,
      });
      assert.equal(r.status, 0, `${argv.join(' ')}\n${r.stderr}`);
      assert.match(r.stdout, /"event": "SHUTDOWN"/);
    });
  }
});

describe('Windows 11 machine under QEMU', () => {
  const swtpm = has('swtpm');
  it('starts with a real swtpm and the secure-boot OVMF (stopped, then quit over QMP)', { skip: (!has(QEMU_BINARY) || !swtpm || !existsSync(OVMF_SECBOOT_CODE)) && 'qemu, swtpm or OVMF secboot missing' }, async (t) => {
    const dir = tempDir(t);
    const { spec, layout } = w11;
    for (const d of layout.disks) spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, `${d.file}.qcow2`), '16M']);
    const isoPaths = Object.fromEntries(layout.cdDrives.map((c) => [c.name, join(dir, `${c.name}.iso`)]));
    for (const iso of Object.values(isoPaths)) writeFileSync(iso, '');
    copyFileSync(OVMF_MS_VARS, join(dir, 'vars.fd'));
    mkdirSync(join(dir, 'tpm'));
    const socket = join(dir, 'swtpm.sock');
    const tpm = spawn('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${join(dir, 'tpm')}`, '--ctrl', `type=unixio,path=${socket}`, '--terminate'], { stdio: 'ignore' });
    t.after(() => tpm.kill());
    for (let i = 0; i < 50 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(socket), 'swtpm made its control socket');
    const argv = qemuArgs(spec, layout, {
      diskPaths: diskFiles(layout, 'qcow2', `${dir}/`), isoPaths, ovmf: { code: OVMF_SECBOOT_CODE, vars: join(dir, 'vars.fd') }, tpmSocket: socket, accel: 'tcg',
    });
    const r = spawnSync(argv[0], [...argv.slice(1), '-S', '-display', 'none', '-qmp', 'stdio'], {
      input: '{"execute":"qmp_capabilities"}\n{"execute":"query-tpm"}\n{"execute":"quit"}\n', encoding: 'utf8', timeout: 60_000,
    });
    assert.equal(r.status, 0, `${argv.join(' ')}\n${r.stderr}`);
    assert.match(r.stdout, /"model": "tpm-crb".*"type": "emulator"|"type": "emulator".*"model": "tpm-crb"/s);
    assert.match(r.stdout, /"event": "SHUTDOWN"/);
  });
});

describe('run.sh of Windows 11, for real', () => {
  it('starts swtpm and QEMU with the TPM and Secure Boot (stopped, quit with Ctrl-A X), keeps the TPM state, removes the socket', { skip: (!has(QEMU_BINARY) || !has('swtpm') || !existsSync(OVMF_SECBOOT_CODE)) && 'qemu, swtpm or OVMF secboot missing' }, (t) => {
    const dir = tempDir(t);
    const { spec, layout } = w11;
    for (const d of layout.disks) spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, `${d.file}.qcow2`), '16M']);
    for (const c of layout.cdDrives) writeFileSync(join(dir, `${c.name}.iso`), '');
    const opts = { ...runOptions(spec, layout), isoPaths: Object.fromEntries(layout.cdDrives.map((c) => [c.name, `${c.name}.iso`])) };
    copyFileSync(OVMF_MS_VARS, join(dir, opts.ovmf!.vars));
    writeFileSync(join(dir, 'run.sh'), renderRunSh(spec, layout, opts), { mode: 0o755 });
    mkdirSync(join(dir, 'tmp'));
    const r = spawnSync('bash', [join(dir, 'run.sh'), '-S'], { input: '\u0001x', encoding: 'utf8', timeout: 60_000, env: { ...process.env, TMPDIR: join(dir, 'tmp') } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /QEMU: Terminated/);
    assert.ok(readdirSync(join(dir, RUN_SH_TPM_STATE)).length > 0, 'swtpm wrote its state beside run.sh');
    assert.deepEqual(readdirSync(join(dir, 'tmp')), [], 'no socket directory left behind');
  });
});

describe('run.sh', () => {
  const KVM_TEST = '[ -r /dev/kvm ] && [ -w /dev/kvm ]';

  interface RunScriptOptions {
    /** What the stand-in qemu does when run.sh probes KVM (the call with -bios); without, /dev/kvm is absent. */
    probe?: string;
    /** Shell lines of a stand-in swtpm. */
    swtpm?: string;
    extra?: string[];
  }

  /**
   * Runs the script with a stand-in qemu that prints its arguments, NUL-separated. /dev/kvm is
   * replaced in the script by a file of the test's (absent, or a plain file standing for a device
   * that opens), the one change made to the script under test.
   */
  function runScript(t: { after(fn: () => void): void }, script: string, o: RunScriptOptions = {}): { argv: string[]; stderr: string; dir: string } {
    const dir = tempDir(t);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const kvm = join(dir, 'kvm');
    if (o.probe !== undefined) writeFileSync(kvm, '');
    assert.ok(script.includes(KVM_TEST), 'run.sh tests /dev/kvm before probing');
    const qemu = ['#!/bin/bash', `for a in "$@"; do if [ "$a" = -bios ]; then ${o.probe ?? 'exit 99'}; fi; done`, 'printf \'%s\\0\' "$@"', ''].join('\n');
    writeFileSync(join(bin, QEMU_BINARY), qemu, { mode: 0o755 });
    if (o.swtpm !== undefined) writeFileSync(join(bin, 'swtpm'), `#!/bin/bash\n${o.swtpm}\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'run.sh'), script.replaceAll('/dev/kvm', kvm), { mode: 0o755 });
    const r = spawnSync('bash', [join(dir, 'run.sh'), ...(o.extra ?? [])], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    return { argv: r.stdout.split('\0').slice(0, -1), stderr: r.stderr, dir };
  }

  for (const name of ['web', 'devices'] as VmCaseName[]) {
    it(`passes qemuArgs plus a serial console on the terminal to QEMU (${name})`, (t) => {
      const { spec, layout } = vmCase(name, 'qemu');
      const opts = runOptions(spec, layout);
      const { argv } = runScript(t, renderRunSh(spec, layout, opts), { extra: ['-display', 'gtk'] });
      assert.deepEqual(argv, [...qemuArgs(spec, layout, { ...opts, accel: 'tcg' }).slice(1), '-serial', 'mon:stdio', '-display', 'none', '-display', 'gtk']);
    });
  }

  /*
   * Where /dev/kvm opens but KVM cannot run a guest (a VM without nested virtualization), QEMU
   * hangs or aborts instead of falling back to TCG ("-accel kvm -accel tcg" falls back only when
   * KVM fails to initialize: qemu's softmmu/vl.c (system/vl.c from 8.1), configure_accelerators, tries the next
   * accelerator only when init fails). So run.sh runs a probe guest first.
   */
  describe('KVM or TCG, decided by trying', () => {
    const accelOf = (argv: string[]): string[] => values(argv, '-accel');
    const script = renderRunSh(web.spec, web.layout, runOptions(web.spec, web.layout));

    it('no /dev/kvm: TCG without probing', (t) => {
      assert.deepEqual(accelOf(runScript(t, script).argv), ['tcg']);
    });

    it('/dev/kvm there but the probe hangs: TCG after the probe\'s timeout', (t) => {
      const started = Date.now();
      const r = runScript(t, script, { probe: 'exec sleep 60' });
      assert.deepEqual(accelOf(r.argv), ['tcg']);
      assert.ok(Date.now() - started < 15_000, `gave up on the hanging probe after ${Date.now() - started} ms`);
      assert.match(r.stderr, /KVM does not run guests here; emulating \(TCG\)/);
    });

    it('/dev/kvm there but qemu aborts ("KVM internal error"): TCG', (t) => {
      assert.deepEqual(accelOf(runScript(t, script, { probe: 'echo "KVM internal error. Suberror: 1" >&2; kill -ABRT $$' }).argv), ['tcg']);
    });

    it(`KVM runs the probe guest (exit ${KVM_PROBE_STATUS}): KVM`, (t) => {
      assert.deepEqual(accelOf(runScript(t, script, { probe: `exit ${KVM_PROBE_STATUS}` }).argv), ['kvm']);
    });

    // The probe image itself, run by the real QEMU (with TCG in place of KVM, which this host lacks):
    // its first instructions write to isa-debug-exit, so QEMU ends with the status run.sh waits for.
    it('the probe firmware really exits QEMU with that status', { skip: !has(QEMU_BINARY) && `${QEMU_BINARY} missing` }, (t) => {
      const real = spawnSync('sh', ['-c', `command -v ${QEMU_BINARY}`], { encoding: 'utf8' }).stdout.trim();
      const probe = `args=(); for a in "$@"; do [ "$a" = kvm ] && a=tcg; args+=("$a"); done; exec ${real} "\${args[@]}"`;
      assert.deepEqual(accelOf(runScript(t, script, { probe }).argv), ['kvm']);
    });
  });

  it('Windows 11: starts swtpm, hands QEMU its socket, and stops it and removes the socket afterwards', (t) => {
    const script = renderRunSh(w11.spec, w11.layout, runOptions(w11.spec, w11.layout));
    assert.doesNotMatch(script, /\nexec /, 'run.sh stays to clean up after QEMU');
    // A stand-in swtpm that makes its socket and records its arguments.
    const swtpm = [
      'printf \'%s\\n\' "$@" > "$(dirname "$0")/../swtpm-args"',
      'for a in "$@"; do case $a in type=unixio,path=*) sock=${a#type=unixio,path=} ;; esac; done',
      'exec python3 -c \'import socket, sys, time; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); time.sleep(60)\' "$sock"',
    ].join('\n');
    const { argv, dir } = runScript(t, script, { swtpm });
    const chardev = values(argv, '-chardev')[0]!;
    const socket = chardev.replace(/^socket,id=chrtpm,path=/, '');
    assert.match(socket, /^\/.+\/swtpm\.sock$/, chardev);
    const swtpmArgs = readFileSync(join(dir, 'swtpm-args'), 'utf8').trim().split('\n');
    assert.deepEqual(swtpmArgs, ['socket', '--tpm2', '--tpmstate', `dir=${RUN_SH_TPM_STATE}`, '--ctrl', `type=unixio,path=${socket}`, '--terminate']);
    assert.ok(existsSync(join(dir, RUN_SH_TPM_STATE)), 'the TPM state directory is made beside run.sh');
    assert.ok(!existsSync(socket), 'the socket\'s temporary directory is gone after QEMU exits');
    assert.deepEqual(values(argv, '-tpmdev'), ['emulator,id=tpm0,chardev=chrtpm']);
    assert.deepEqual(values(argv, '-machine'), ['q35,smm=on']);
  });

  it('quotes every value so bash hands it over unchanged', (t) => {
    const path = 'my disks/it\'s $HOME `id` "x" ;&|*?.qcow2';
    const opts = { ...runOptions(web.spec, web.layout), diskPaths: { hdd0: path } };
    const { argv } = runScript(t, renderRunSh(web.spec, web.layout, opts));
    includesAll(argv, [`if=none,id=disk0,file=${path},format=qcow2,discard=unmap`]);
  });

  it('is valid bash and starts from its own folder', () => {
    const script = renderRunSh(devices.spec, devices.layout, runOptions(devices.spec, devices.layout));
    assert.equal(spawnSync('bash', ['-n'], { input: script }).status, 0);
    assert.match(script, /^#!\/bin\/bash\n/);
    assert.match(script, /\ncd "\$\(dirname "\$0"\)"\n/);
    assert.match(script, /eth0: bridged to br0 by qemu-bridge-helper/);
  });

  it('quotes only what needs it', () => {
    assert.equal(shellQuote('if=none,id=disk0,file=a.qcow2'), 'if=none,id=disk0,file=a.qcow2');
    assert.equal(shellQuote('a b'), '\'a b\'');
    assert.equal(shellQuote('it\'s'), '\'it\'\\\'\'s\'');
    assert.equal(shellQuote(''), '\'\'');
  });
});
