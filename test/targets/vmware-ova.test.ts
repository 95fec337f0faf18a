import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalogs } from '../../src/catalog/load.js';
import type { ResolvedSpec } from '../../src/config/resolve.js';
import type { VmLayout } from '../../src/disks/layout.js';
import { renderVmwareOvf, VMWARE_VIRTUAL_SYSTEM_TYPE, type VmwareOvfOptions } from '../../src/targets/vmware/ovf.js';
import { VSPHERE_GUESTS } from '../../src/targets/vmware/guest-ids.js';
import { vmwareCommander } from '../../src/targets/vmware/commander.js';
import { virtualboxCommander } from '../../src/targets/virtualbox/commander.js';
import { renderVmx } from '../../src/targets/vmware/render.js';
import type { PackageContext } from '../../src/targets/types.js';
import { assertGolden } from '../helpers/golden.js';
import { diskFiles, vmCase } from './vm-specs.js';

/**
 * The appliance `vmgen build -t vmware -f ova` writes for ovftool and vSphere's "Deploy OVF Template".
 * VMware's own reference is open-vmdk (https://github.com/vmware/open-vmdk): templates/template-hw19.ovf,
 * an OVF as ovftool exports it, and ova-compose/ova-compose.py, which writes VMware's device subtypes.
 */
const web = vmCase('web', 'vmware');
const devices = vmCase('devices', 'vmware');

function options(layout: VmLayout, iso = false): VmwareOvfOptions {
  return {
    disks: layout.disks.map((d, i) => ({ name: d.name, file: `${d.file}.vmdk`, capacityBytes: d.sizeMiB * 1024 * 1024, fileBytes: 300_000_000 + i })),
    isoFiles: iso ? { cd0: 'netinst.iso' } : Object.fromEntries(layout.cdDrives.filter((c) => c.path).map((c) => [c.name, c.path!])),
    ...(iso ? { isoBytes: { 'netinst.iso': 4_194_304 } } : {}),
  };
}

const hasXmllint = spawnSync('sh', ['-c', 'command -v xmllint']).status === 0;
const hasQemuImg = spawnSync('sh', ['-c', 'command -v qemu-img']).status === 0;

interface Item { required: boolean; get(name: string): string | undefined; names: string[] }

function items(ovf: string): Item[] {
  return [...ovf.matchAll(/<Item( ovf:required="false")?>\n([\s\S]*?)\n\s*<\/Item>/g)].map((m) => {
    const fields = [...m[2]!.matchAll(/<rasd:(\w+)>([^<]*)<\/rasd:\1>/g)].map((f): [string, string] => [f[1]!, f[2]!]);
    return { required: m[1] === undefined, get: (n: string) => fields.find(([k]) => k === n)?.[1], names: fields.map(([k]) => k) };
  });
}

describe('VMware OVA golden files', () => {
  it('renders web (UEFI, PVSCSI, NAT)', () => {
    assertGolden('vmware-ova/web/web1.ovf', renderVmwareOvf(web.spec, web.layout, options(web.layout)));
  });
  it('renders devices (BIOS, LSI Logic, NVMe, IDE and SATA CD drives, one ISO inside)', () => {
    assertGolden('vmware-ova/devices/lab1.ovf', renderVmwareOvf(devices.spec, devices.layout, options(devices.layout, true)));
  });
});

describe('renderVmwareOvf', () => {
  const cases = [renderVmwareOvf(web.spec, web.layout, options(web.layout)), renderVmwareOvf(devices.spec, devices.layout, options(devices.layout, true))];

  it('is well-formed XML', { skip: !hasXmllint && 'xmllint missing' }, () => {
    for (const ovf of cases) {
      const r = spawnSync('xmllint', ['--noout', '-'], { input: ovf, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
  });

  it('declares the hardware version the .vmx uses, a vmx-NN family ovftool knows (vmx-07 … vmx-21)', () => {
    const vmx = renderVmx(web.spec, web.layout, { diskFiles: diskFiles(web.layout, 'vmdk'), isoFiles: {} });
    const version = /^virtualHW\.version = "(\d+)"$/m.exec(vmx)?.[1];
    assert.equal(VMWARE_VIRTUAL_SYSTEM_TYPE, `vmx-${version}`);
    assert.ok(Number(version) >= 7 && Number(version) <= 21, VMWARE_VIRTUAL_SYSTEM_TYPE);
    for (const ovf of cases) assert.match(ovf, new RegExp(`<vssd:VirtualSystemType>${VMWARE_VIRTUAL_SYSTEM_TYPE}</vssd:VirtualSystemType>`));
  });

  it('uses VMware\'s envelope: vmw namespace, streamOptimized disks in bytes, the guest by vmw:osType', () => {
    const ovf = cases[0]!;
    assert.match(ovf, /xmlns:vmw="http:\/\/www\.vmware\.com\/schema\/ovf"/);
    assert.match(ovf, /<Disk ovf:capacity="4294967296" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http:\/\/www\.vmware\.com\/interfaces\/specifications\/vmdk\.html#streamOptimized"\/>/);
    assert.match(ovf, /<OperatingSystemSection ovf:id="96" vmw:osType="debian12_64Guest">/);
    assert.match(ovf, /<vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"\/>/);
    assert.match(cases[1]!, /vmw:key="firmware" vmw:value="bios"/);
  });

  // vSphere API VirtualMachineGuestOsIdentifier: the guest ids an OVF's vmw:osType takes. Every OS
  // the catalog offers must have one, or ovftool falls back to "other" and drops guest-specific defaults.
  it('knows a vSphere guest id for every guestOS the OS catalog uses', () => {
    for (const os of loadCatalogs({ env: {} }).os) {
      const guest = VSPHERE_GUESTS[os.vmwareGuestOs];
      assert.ok(guest, `${os.id}: guestOS ${os.vmwareGuestOs} has no vSphere guest id`);
      assert.match(guest.id, /^[a-z][A-Za-z0-9_]*Guest$/, `${os.id}: ${guest.id}`);
      assert.equal(renderVmwareOvf({ ...web.spec, os }, web.layout, options(web.layout)).includes(`vmw:osType="${guest.id}"`), true, os.id);
    }
  });

  it('gives each NIC the model the .vmx of the same machine gives it, for every catalog OS', () => {
    const subtype: Record<string, string> = { e1000: 'E1000', e1000e: 'E1000e', vmxnet3: 'VmxNet3', vlance: 'PCNet32' };
    for (const os of loadCatalogs({ env: {} }).os) {
      const spec: ResolvedSpec = { ...devices.spec, os };
      const vmx = renderVmx(spec, devices.layout, { diskFiles: diskFiles(devices.layout, 'vmdk'), isoFiles: {} });
      const nics = items(renderVmwareOvf(spec, devices.layout, options(devices.layout))).filter((i) => i.get('ResourceType') === '10');
      assert.equal(nics.length, spec.nics.length);
      nics.forEach((nic, n) => {
        const model = new RegExp(`^ethernet${n}\\.virtualDev = "([^"]+)"$`, 'm').exec(vmx)?.[1];
        assert.equal(nic.get('ResourceSubType'), subtype[model!], `${os.id} ethernet${n}: ${model}`);
      });
    }
  });

  it('puts a bridged NIC on the network its .vmx names (ethernetN.networkName, ESXi\'s default port group)', () => {
    const vmx = renderVmx(devices.spec, devices.layout, { diskFiles: diskFiles(devices.layout, 'vmdk'), isoFiles: {} });
    const network = /^ethernet0\.networkName = "([^"]+)"$/m.exec(vmx)?.[1];
    assert.ok(network, 'the .vmx names the bridged network');
    const nics = items(cases[1]!).filter((i) => i.get('ResourceType') === '10');
    assert.deepEqual(nics.map((n) => n.get('Connection')), [network, 'hostonly']);
    assert.match(cases[1]!, new RegExp(`<Network ovf:name="${network}">`));
  });

  it('maps controllers to VMware\'s subtypes (ova-compose.py RasdScsiController, RasdSataController, RasdNvmeController)', () => {
    const controllers = (layout: VmLayout) => items(renderVmwareOvf(web.spec, layout, options(layout)))
      .filter((i) => ['5', '6', '20'].includes(i.get('ResourceType')!)).map((i) => `${i.get('ResourceType')}:${i.get('ResourceSubType')}:${i.get('Address')}`);
    assert.deepEqual(controllers(web.layout), ['6:VirtualSCSI:0']);
    assert.deepEqual(controllers(devices.layout), ['6:lsilogic:0', '20:vmware.nvme.controller:0', '5:undefined:1', '20:vmware.sata.ahci:0']);
    for (const [model, sub] of [['buslogic', 'buslogic'], ['lsisas1068', 'lsilogicsas'], ['lsilogic', 'lsilogic']] as const) {
      assert.deepEqual(controllers({ ...web.layout, disks: web.layout.disks.map((d) => ({ ...d, controller: model })) }), [`6:${sub}:0`]);
    }
  });

  it('ships an ISO as a file (ovf:/file/) on a vmware.cdrom.iso drive; a drive without one is a client device', () => {
    const cds = items(cases[1]!).filter((i) => i.get('ResourceType') === '15');
    assert.deepEqual(cds.map((c) => [c.required, c.get('ResourceSubType'), c.get('HostResource'), c.get('AutomaticAllocation')]),
      [[false, 'vmware.cdrom.iso', 'ovf:/file/file3', 'true'], [false, 'vmware.cdrom.remotepassthrough', undefined, 'false']]);
    assert.match(cases[1]!, /<File ovf:href="netinst\.iso" ovf:id="file3" ovf:size="4194304"\/>/);
    const outside = renderVmwareOvf(devices.spec, devices.layout, options(devices.layout));
    assert.match(outside, /CD drive cd0 is empty; its ISO stays outside the appliance: \/srv\/iso\/debian-12-amd64-netinst\.iso/);
    assert.doesNotMatch(outside, /ovf:\/file\/file3/);
  });

  it('holds together: RASD fields sorted, unique InstanceIDs, controllers before their devices, every disk used once', () => {
    for (const ovf of cases) {
      const all = items(ovf);
      const ids = all.map((i) => i.get('InstanceID'));
      assert.equal(new Set(ids).size, ids.length, 'duplicate InstanceID');
      for (const i of all) assert.deepEqual(i.names, [...i.names].sort(), `${i.get('ElementName')}: fields in alphabetical order`);
      for (const i of all.filter((x) => x.get('Parent') !== undefined)) {
        assert.ok(ids.indexOf(i.get('Parent')) < ids.indexOf(i.get('InstanceID')), `${i.get('ElementName')}: parent first`);
      }
      const diskIds = [...ovf.matchAll(/ovf:diskId="([^"]+)"/g)].map((m) => m[1]!);
      for (const d of diskIds) assert.equal(all.filter((i) => i.get('HostResource') === `ovf:/disk/${d}`).length, 1, d);
    }
  });
});

/** A small sparse raw image per layout disk, with some data in it so the conversion has something to carry. */
function rawImages(dir: string, layout: VmLayout): Array<{ disk: string; path: string; format: 'raw' }> {
  return layout.disks.map((d) => {
    const path = join(dir, `${d.name}.raw`);
    writeFileSync(path, '');
    truncateSync(path, d.sizeMiB * 1024 * 1024);
    const fd = openSync(path, 'r+');
    writeSync(fd, randomBytes(256 * 1024), 0, 256 * 1024, 1024 * 1024);
    closeSync(fd);
    return { disk: d.name, path, format: 'raw' as const };
  });
}

function untar(archive: string, dir: string): string[] {
  const list = spawnSync('tar', ['-tf', archive], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  const x = spawnSync('tar', ['-xf', archive, '-C', dir], { encoding: 'utf8' });
  assert.equal(x.status, 0, x.stderr);
  return list.stdout.trim().split('\n');
}

function checkManifest(dir: string, mf: string, members: string[]): void {
  const lines = readFileSync(join(dir, mf), 'utf8').trim().split('\n');
  assert.deepEqual(lines.map((l) => /^SHA256\((.+)\)= [0-9a-f]{64}$/.exec(l)?.[1]), members.filter((m) => m !== mf));
  for (const line of lines) {
    const [, name, digest] = /^SHA256\((.+)\)= ([0-9a-f]{64})$/.exec(line)!;
    assert.equal(createHash('sha256').update(readFileSync(join(dir, name!))).digest('hex'), digest, `${name}: digest`);
  }
}

async function pack(commander: typeof vmwareCommander, target: 'vmware' | 'virtualbox', layout: VmLayout, dir: string): Promise<string> {
  const { spec } = vmCase('devices', target);
  const output = join(dir, 'out.ova');
  const ctx: PackageContext = {
    spec, options: {}, stageDir: join(dir, 'stage'), output, format: 'ova', signal: new AbortController().signal,
    vm: { layout, images: rawImages(dir, layout) }, progress: () => {},
  };
  await commander.package(ctx);
  return output;
}

describe('OVA packages', { skip: !hasQemuImg && 'qemu-img missing' }, () => {
  for (const [target, commander] of [['vmware', vmwareCommander], ['virtualbox', virtualboxCommander]] as const) {
    it(`${target}: descriptor, manifest, then streamOptimized disks and the ISO; digests match; qemu-img check passes`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `vmgen-ova-${target}-`));
      try {
        const iso = join(dir, 'netinst.iso');
        writeFileSync(iso, randomBytes(64 * 1024));
        const layout: VmLayout = { ...devices.layout, cdDrives: devices.layout.cdDrives.map((cd) => (cd.name === 'cd0' ? { ...cd, path: iso, copy: true } : cd)) };
        const x = join(dir, 'x');
        mkdirSync(x);
        const members = untar(await pack(commander, target, layout, dir), x);
        assert.deepEqual(members, ['lab1.ovf', 'lab1.mf', 'lab1-hdd0.vmdk', 'lab1-hdd1.vmdk', 'netinst.iso']);
        checkManifest(x, 'lab1.mf', members);
        const ovf = readFileSync(join(x, 'lab1.ovf'), 'utf8');
        for (const [i, vmdk] of [['hdd0', 'lab1-hdd0.vmdk'], ['hdd1', 'lab1-hdd1.vmdk']] as const) {
          const check = spawnSync('qemu-img', ['check', join(x, vmdk)], { encoding: 'utf8' });
          assert.equal(check.status, 0, `${vmdk}: ${check.stdout}${check.stderr}`);
          const info = JSON.parse(spawnSync('qemu-img', ['info', '--output=json', join(x, vmdk)], { encoding: 'utf8' }).stdout) as { 'format-specific': { data: { 'create-type': string; extents: Array<{ filename: string }> } } };
          assert.equal(info['format-specific'].data['create-type'], 'streamOptimized', vmdk);
          // VMware opens a streamOptimized VMDK through its embedded descriptor, whose extent must name the file itself.
          assert.match(readFileSync(join(x, vmdk)).subarray(0, 64 * 1024).toString('latin1'), new RegExp(`RW \\d+ SPARSE "${vmdk}"`), `${vmdk}: extent name`);
          const same = spawnSync('qemu-img', ['compare', '-f', 'raw', '-F', 'vmdk', join(dir, `${i}.raw`), join(x, vmdk)], { encoding: 'utf8' });
          assert.equal(same.status, 0, `${vmdk}: ${same.stdout}${same.stderr}`);
          assert.match(ovf, new RegExp(`<File ovf:href="${vmdk}" ovf:id="file\\d" ovf:size="${statSync(join(x, vmdk)).size}"/>`), `${vmdk}: size in References`);
        }
        assert.match(ovf, /<File ovf:href="netinst\.iso" ovf:id="file3" ovf:size="65536"\/>/);
        if (hasXmllint) {
          const lint = spawnSync('xmllint', ['--noout', join(x, 'lab1.ovf')], { encoding: 'utf8' });
          assert.equal(lint.status, 0, lint.stderr);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
