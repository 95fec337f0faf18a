import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedSpec } from '../../src/config/resolve.js';
import type { VmLayout } from '../../src/vm/layout.js';
import {
  QEMU_BINARY, qemuArgs, qemuMachine, renderLibvirtHostonlyNetwork, renderLibvirtXml, renderRunSh, shellQuote, type QemuOptions,
} from '../../src/targets/qemu/render.js';
import { assertGolden } from '../helpers/golden.js';
import { VM_CASE_NAMES, diskFiles, vmCase, type VmCaseName } from './vm-specs.js';

const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const GOLDEN = fileURLToPath(new URL('../golden/qemu/', import.meta.url));

/** What the qemu packager passes: disks under libvirt's image folder for the XML, next to run.sh for the script. */
function libvirtOptions(spec: ResolvedSpec, layout: VmLayout): QemuOptions {
  return {
    diskPaths: diskFiles(layout, 'qcow2', `/var/lib/libvirt/images/${spec.name}/`),
    isoPaths: {},
    ...(layout.firmware === 'efi' ? { ovmf: { code: OVMF_CODE, vars: `/var/lib/libvirt/qemu/nvram/${spec.name}_VARS.fd` } } : {}),
  };
}

function runOptions(spec: ResolvedSpec, layout: VmLayout): QemuOptions {
  return {
    diskPaths: diskFiles(layout, 'qcow2'),
    isoPaths: {},
    ...(layout.firmware === 'efi' ? { ovmf: { code: OVMF_CODE, vars: `${spec.name}-OVMF_VARS.fd` } } : {}),
  };
}

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
    const xml = renderLibvirtXml(web.spec, web.layout, libvirtOptions(web.spec, web.layout));
    assert.match(xml, /<controller type="scsi" index="0" model="vmpvscsi"\/>/);
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

  it('refuses relative paths, which libvirt would resolve against its own working directory', () => {
    assert.throws(() => renderLibvirtXml(web.spec, web.layout, runOptions(web.spec, web.layout)), /absolute path/);
  });

  it('escapes XML', () => {
    const xml = renderLibvirtXml({ ...web.spec, name: 'a<b>&"c"' }, web.layout, { ...libvirtOptions(web.spec, web.layout), ovmf: undefined });
    assert.match(xml, /<name>a&lt;b&gt;&amp;&quot;c&quot;<\/name>/);
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
    assert.ok(argv.includes('-nodefaults'), "argv.includes('-nodefaults')");
  });

  it('maps the layout to devices', () => {
    const web1 = qemuArgs(web.spec, web.layout, runOptions(web.spec, web.layout));
    assert.deepEqual(values(web1, '-drive'), [
      `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
      'if=pflash,format=raw,unit=1,file=web1-OVMF_VARS.fd',
      'if=none,id=disk0,file=web1-hdd0.qcow2,format=qcow2,discard=unmap',
    ]);
    assert.deepEqual(values(web1, '-device').slice(1, 3), ['pvscsi,id=scsi0', 'scsi-hd,bus=scsi0.0,scsi-id=0,drive=disk0,bootindex=0']);
    assert.deepEqual(values(web1, '-netdev'), ['user,id=net0']);
    assert.ok(values(web1, '-device').includes('virtio-net-pci,netdev=net0,mac=00:50:56:00:10:01'), "values(web1, '-device').includes('virtio-net-pci,netdev=net0,mac=00:50:56:00:10:01')");
    const lab = qemuArgs(devices.spec, devices.layout, runOptions(devices.spec, devices.layout));
    assert.deepEqual(values(lab, '-machine'), ['pc']);
    assert.deepEqual(values(lab, '-device').slice(1), [
      'mptsas1068,id=scsi0', 'scsi-hd,bus=scsi0.0,scsi-id=0,drive=disk0,bootindex=0',
      'nvme,id=nvme0,serial=vmgen-nvme0', 'nvme-ns,bus=nvme0,nsid=1,drive=disk1',
      'ide-cd,bus=ide.1,unit=0,drive=cd0',
      'ahci,id=sata0', 'ide-cd,bus=sata0.0,drive=cd1',
      'virtio-net-pci,netdev=net0,mac=00:50:56:00:20:01', 'virtio-net-pci,netdev=net1',
    ]);
    assert.ok(values(lab, '-drive').includes('if=none,id=cd0,media=cdrom,readonly=on,file=/srv/iso/debian-12-amd64-netinst.iso,format=raw'), "values(lab, '-drive').includes('if=none,id=cd0,media=cdrom,readonly=on,file=/srv/iso/debian-12-amd64-netinst.iso,format=raw')");
    assert.ok(values(lab, '-drive').includes('if=none,id=cd1,media=cdrom'), "values(lab, '-drive').includes('if=none,id=cd1,media=cdrom')");
    assert.deepEqual(values(lab, '-netdev'), ['bridge,id=net0,br=br0', 'hubport,id=net1,hubid=1']);
  });

  it('gives host-only NICs a user network that reaches no one', () => {
    const spec = { ...devices.spec, nics: devices.spec.nics.map((n) => ({ ...n, connected: true })) };
    assert.deepEqual(values(qemuArgs(spec, devices.layout, runOptions(spec, devices.layout)), '-netdev'), ['bridge,id=net0,br=br0', 'user,id=net1,restrict=on']);
  });

  it('doubles commas in values, QEMU\'s escape', () => {
    const argv = qemuArgs(web.spec, web.layout, { ...runOptions(web.spec, web.layout), diskPaths: { hdd0: 'a,b.qcow2' } });
    assert.ok(values(argv, '-drive').includes('if=none,id=disk0,file=a,,b.qcow2,format=qcow2,discard=unmap'), "values(argv, '-drive').includes('if=none,id=disk0,file=a,,b.qcow2,format=qcow2,discard=unmap')");
  });

  it('refuses what QEMU cannot start', () => {
    assert.throws(() => qemuArgs(web.spec, web.layout, { ...runOptions(web.spec, web.layout), ovmf: undefined }), /needs opts.ovmf/);
    const disk = { ...web.layout.disks[0]!, controller: 'sata' as const, unit: 6 };
    assert.throws(() => qemuArgs(web.spec, { ...web.layout, disks: [disk] }, runOptions(web.spec, web.layout)), /sata0:6: QEMU's AHCI controller has units 0 to 5/);
    const lsi = { ...web.layout.disks[0]!, controller: 'lsilogic' as const, unit: 9 };
    assert.throws(() => qemuArgs(web.spec, { ...web.layout, disks: [lsi] }, runOptions(web.spec, web.layout)), /units 0 to 8/);
    assert.throws(() => qemuArgs(devices.spec, devices.layout, { diskPaths: {}, isoPaths: {} }), /no disk path given for disk hdd0/);
  });

  it('picks q35 unless an IDE device needs the i440FX machine', () => {
    assert.equal(qemuMachine(web.layout), 'q35');
    assert.equal(qemuMachine(devices.layout), 'pc');
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

describe('run.sh', () => {
  /** Runs the script with a stand-in qemu that prints its arguments, NUL-separated. */
  function runScript(t: { after(fn: () => void): void }, script: string, extra: string[] = []): string[] {
    const dir = tempDir(t);
    const bin = join(dir, 'bin');
    spawnSync('mkdir', [bin]);
    writeFileSync(join(bin, QEMU_BINARY), '#!/bin/sh\nprintf \'%s\\0\' "$@"\n');
    chmodSync(join(bin, QEMU_BINARY), 0o755);
    writeFileSync(join(dir, 'run.sh'), script, { mode: 0o755 });
    const r = spawnSync('bash', [join(dir, 'run.sh'), ...extra], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\0').slice(0, -1);
  }

  for (const name of ['web', 'devices'] as VmCaseName[]) {
    it(`passes qemuArgs plus a serial console on the terminal to QEMU (${name})`, (t) => {
      const { spec, layout } = vmCase(name, 'qemu');
      const opts = runOptions(spec, layout);
      const argv = runScript(t, renderRunSh(spec, layout, opts), ['-display', 'gtk']);
      assert.deepEqual(argv, [...qemuArgs(spec, layout, opts).slice(1), '-serial', 'mon:stdio', '-display', 'none', '-display', 'gtk']);
    });
  }

  it('quotes every value so bash hands it over unchanged', (t) => {
    const path = 'my disks/it\'s $HOME `id` "x" ;&|*?.qcow2';
    const opts = { ...runOptions(web.spec, web.layout), diskPaths: { hdd0: path } };
    const argv = runScript(t, renderRunSh(web.spec, web.layout, opts));
    assert.ok(argv.includes(`if=none,id=disk0,file=${path},format=qcow2,discard=unmap`), 'argv.includes(`if=none,id=disk0,file=${path},format=qcow2,discard=unmap`)');
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
