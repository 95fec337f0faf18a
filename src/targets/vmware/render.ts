import type { OsEntry } from '../../catalog/schema.js';
import type { ResolvedNic, ResolvedSpec } from '../../config/resolve.js';
import { isVmwareStaticMac } from '../../config/validators.js';
import { CONTROLLER_BUS, type ControllerBus } from '../../vm/controllers.js';
import type { Controller, VmCdDrive, VmDisk, VmLayout } from '../../vm/layout.js';

/**
 * VMware machine description (.vmx): the seed's Listing 4.1 with today's values. Pure: the spec and
 * the VM layout in, the text out. The disk and ISO file names come from the caller, who writes them.
 *
 * virtualHW.version 19 is the level of ESXi 7.0 U2, Workstation 16.2 and Fusion 12.2. Every device
 * written here is older (NVMe came with version 13); a newer version would shut out ESXi 7 hosts,
 * still common, for nothing vmgen uses.
 */
export const VIRTUAL_HW_VERSION = 19;

export interface VmxOptions {
  /** Disk file name (relative to the .vmx) per layout disk name. */
  diskFiles: Record<string, string>;
  /** ISO per CD drive name; a drive without one falls back to the layout's path, else stays empty. */
  isoFiles: Record<string, string>;
}

/**
 * Where each key this file writes is described. VMware publishes no list of .vmx keys (seed §4.1.1),
 * so the sources are the ones that read or write them: libvirt's VMX converter, whose mapping table
 * documents the keys it handles; SUSE's vmx2xml, which reads SATA, NVMe and firmware keys; the
 * vSphere API for the values; and .vmx files written by VMware itself. `#` stands for a number and
 * `<bus>` for ide, scsi, sata or nvme.
 */
const LIBVIRT_VMX = 'libvirt src/vmx/vmx.c, mapping table and virVMXFormatConfig (https://github.com/libvirt/libvirt/blob/master/src/vmx/vmx.c)';
const VMX2XML = 'SUSE vmx2xml, vmx2xml.py find_disk_controllers/find_disks (https://github.com/hw-claudio/vmx2xml, vmx2xml.py)';
export const VMX_KEYS_DOCUMENTED: Readonly<Record<string, string>> = {
  '.encoding': `${LIBVIRT_VMX}: writes .encoding = "UTF-8" first`,
  'config.version': `${LIBVIRT_VMX}: config.version = "8", essential; seed Listing 4.1`,
  'virtualHW.version': 'vSphere Automation API, Hardware.Version: VMX_19 first supported in ESXi 7.0 U2 (https://developer.broadcom.com/xapis/vsphere-automation-api/latest/vcenter/data-structures/Vm_Hardware_Upgrade_RequestBody)',
  guestOS: `${LIBVIRT_VMX}: guestOS, essential; seed Listing 4.1`,
  displayName: `${LIBVIRT_VMX}: def->name <=> displayName, |XX-escaped (virVMXEscapeHexPipe)`,
  numvcpus: `${LIBVIRT_VMX}: def->maxvcpus <=> numvcpus`,
  memsize: `${LIBVIRT_VMX}: memsize in MB, a multiple of 4`,
  firmware: `${VMX2XML}: firmware = "efi" selects UEFI (absent: BIOS)`,
  'floppy#.present': `${LIBVIRT_VMX}: floppy[0..1].present defaults to true, disabled explicitly`,
  'scsi#.present': `${LIBVIRT_VMX}: scsi0.present`,
  'scsi#.virtualDev': `${LIBVIRT_VMX}: scsi0.virtualDev = buslogic|lsilogic|lsisas1068|pvscsi; OpenBSD vmwpvs(4) (https://man.openbsd.org/vmwpvs.4): scsi0.virtualDev = "pvscsi"`,
  'sata#.present': `${VMX2XML}: <interface>N.present for sata`,
  'nvme#.present': `${VMX2XML}: <interface>N.present for nvme`,
  '<bus>#:#.present': `${LIBVIRT_VMX}: scsi0:0.present, ide0:0.present; ${VMX2XML}: the same key for sata and nvme`,
  '<bus>#:#.fileName': `${LIBVIRT_VMX}: scsi0:0.fileName = "<value>.vmdk" / "<value>.iso"; seed Listing 4.1`,
  '<bus>#:#.deviceType': `${LIBVIRT_VMX}: deviceType = "cdrom-image" for an ISO; VMware Workstation .vmx (https://gist.github.com/JDHatman/10602414): "cdrom-raw" for a host drive`,
  '<bus>#:#.startConnected': `${LIBVIRT_VMX}: scsi0:0.startConnected, defaults to "true"`,
  '<bus>#:#.autodetect': 'VMware Workstation .vmx (https://gist.github.com/JDHatman/10602414): sata0:1.autodetect = "TRUE" on a "cdrom-raw" drive',
  'ethernet#.present': `${LIBVIRT_VMX}: ethernet0.present`,
  'ethernet#.virtualDev': `${LIBVIRT_VMX}: ethernet0.virtualDev; vSphere Automation API Ethernet.EmulationType: E1000E, VMXNET3 (https://developer.broadcom.com/xapis/vsphere-automation-api/v8.0u2/vcenter/data-structures/Vm_Hardware_Ethernet_EmulationType)`,
  'ethernet#.connectionType': `${LIBVIRT_VMX}: connectionType = bridged|hostonly|nat; seed Listing 4.1`,
  'ethernet#.startConnected': `${LIBVIRT_VMX}: ethernet0.startConnected, defaults to "true"; seed Listing 4.1`,
  'ethernet#.addressType': `${LIBVIRT_VMX}: addressType = "static" with 00:50:56:00:00:00-00:50:56:3f:ff:ff, else "generated"`,
  'ethernet#.address': `${LIBVIRT_VMX}: ethernet0.address with addressType = "static"`,
};

// ---------------------------------------------------------------------------------------------
// Controllers, shared by the VM targets

export type BusKind = ControllerBus['bus'];

export type AttachedDevice =
  | { type: 'disk'; unit: number; disk: VmDisk }
  | { type: 'cdrom'; unit: number; cd: VmCdDrive };

export interface ControllerGroup {
  bus: BusKind;
  /** Which controller of its kind: the N of scsiN. */
  index: number;
  /** The model the disks on it ask for (CD drives only join a controller). */
  model: Controller;
  /** Sorted by unit. */
  devices: AttachedDevice[];
}

/**
 * The layout's devices grouped by controller, in the order their first device appears (disks before
 * CD drives, so the boot disk's controller comes first). The layout numbers positions the way a
 * .vmx does (scsiN:M), so this lives next to the vmx renderer; qemu and VirtualBox group the same way.
 */
export function vmControllers(layout: VmLayout): ControllerGroup[] {
  const groups = new Map<string, ControllerGroup>();
  const attach = (controller: Controller, index: number, device: AttachedDevice): void => {
    const bus = busOf(controller);
    const key = `${bus}${index}`;
    const group = groups.get(key) ?? { bus, index, model: controller, devices: [] };
    // Disks come first and choose the model: a CD drive's SCSI model only comes from the generic "scsi" type.
    if (device.type === 'disk' && group.model !== controller) {
      throw new Error(`${key} would be both ${group.model} and ${controller}: put disks of different SCSI models on different controllers`);
    }
    if (group.devices.some((d) => d.unit === device.unit)) throw new Error(`${key}:${device.unit} holds two devices`);
    group.devices.push(device);
    groups.set(key, group);
  };
  for (const disk of layout.disks) attach(disk.controller, disk.bus, { type: 'disk', unit: disk.unit, disk });
  for (const cd of layout.cdDrives) {
    if (busOf(cd.controller) === 'nvme') throw new Error(`CD drive ${cd.name}: NVMe controllers hold disks only; use ide, sata or scsi`);
    attach(cd.controller, cd.bus, { type: 'cdrom', unit: cd.unit, cd });
  }
  for (const g of groups.values()) g.devices.sort((a, b) => a.unit - b.unit);
  return [...groups.values()];
}

function busOf(controller: Controller): BusKind {
  const bus = CONTROLLER_BUS[controller];
  if (bus === undefined) throw new Error(`unknown controller ${controller}`);
  return bus.bus;
}

/** The ISO a CD drive holds: the caller's file (copied into the archive), else the layout's path. */
export function isoOf(cd: VmCdDrive, isoFiles: Record<string, string> | undefined): string | undefined {
  return isoFiles?.[cd.name] ?? cd.path;
}

export function diskFileOf(disk: VmDisk, files: Record<string, string>, what: string): string {
  const file = files[disk.name];
  if (file === undefined) throw new Error(`no ${what} given for disk ${disk.name}`);
  return file;
}

// ---------------------------------------------------------------------------------------------
// The .vmx

/** ethernet0 … ethernet9: the most NICs ESXi and Workstation give a VM. */
export const MAX_NICS = 10;

const CONNECTION_TYPE: Record<ResolvedNic['link'], string> = { nat: 'nat', bridged: 'bridged', hostonly: 'hostonly' };

export function renderVmx(spec: ResolvedSpec, layout: VmLayout, opts: VmxOptions): string {
  if (spec.nics.length > MAX_NICS) throw new Error(`VMware gives a VM at most ${MAX_NICS} NICs; ${spec.name} has ${spec.nics.length}`);
  const sections = [
    header(spec),
    machine(spec, layout),
    ...vmControllers(layout).map((g) => controller(g, opts)),
    ...spec.nics.map((nic) => ethernet(nic, spec.os)),
  ];
  return sections.map((s) => s.join('\n')).join('\n\n') + '\n';
}

function header(spec: ResolvedSpec): string[] {
  return [
    '#!/usr/bin/vmware',
    `# ${oneLine(spec.name)}: ${oneLine(spec.os.label)}, generated by vmgen.`,
    `# Virtual hardware ${VIRTUAL_HW_VERSION}: ESXi 7.0 U2, Workstation 16.2, Fusion 12.2 or later.`,
    setting('.encoding', 'UTF-8'),
    setting('config.version', '8'),
    setting('virtualHW.version', String(VIRTUAL_HW_VERSION)),
    setting('guestOS', spec.os.vmwareGuestOs),
    setting('displayName', spec.name),
  ];
}

function machine(spec: ResolvedSpec, layout: VmLayout): string[] {
  const memsize = Math.ceil(spec.ramMiB / 4) * 4;
  return [
    setting('numvcpus', String(spec.cpus)),
    ...(memsize === spec.ramMiB ? [] : [`# ${spec.ramMiB} MB rounded up: VMware wants a multiple of 4.`]),
    setting('memsize', String(memsize)),
    // BIOS is VMware's default, so only UEFI is spelled out.
    ...(layout.firmware === 'efi' ? [setting('firmware', 'efi')] : []),
    '# VMware adds a floppy drive unless told not to.',
    setting('floppy0.present', 'FALSE'),
  ];
}

const LABEL: Record<Controller, string> = {
  ide: 'IDE', sata: 'SATA', nvme: 'NVMe', lsilogic: 'LSI Logic', buslogic: 'BusLogic', lsisas1068: 'LSI Logic SAS', pvscsi: 'VMware Paravirtual SCSI',
};

function controller(group: ControllerGroup, opts: VmxOptions): string[] {
  const name = `${group.bus}${group.index}`;
  const lines = [`# ${name}: ${LABEL[group.model]} controller`];
  // The IDE controllers are always there; the others exist once present.
  if (group.bus !== 'ide') lines.push(setting(`${name}.present`, 'TRUE'));
  if (group.bus === 'scsi') lines.push(setting(`${name}.virtualDev`, group.model));
  for (const device of group.devices) {
    const at = `${name}:${device.unit}`;
    lines.push(...(device.type === 'disk' ? diskLines(at, device.disk, opts) : cdLines(at, device.cd, opts)));
  }
  return lines;
}

function diskLines(at: string, disk: VmDisk, opts: VmxOptions): string[] {
  return [
    `# ${disk.name}: ${disk.sizeMiB} MiB${disk.boot ? ', boot disk' : ''}`,
    setting(`${at}.present`, 'TRUE'),
    setting(`${at}.fileName`, diskFileOf(disk, opts.diskFiles, 'disk file')),
  ];
}

function cdLines(at: string, cd: VmCdDrive, opts: VmxOptions): string[] {
  const iso = isoOf(cd, opts.isoFiles);
  if (iso === undefined) {
    // No image: a host drive VMware picks itself, left unconnected so power-on never waits for one.
    return [
      `# ${cd.name}: CD drive without an image`,
      setting(`${at}.present`, 'TRUE'),
      setting(`${at}.deviceType`, 'cdrom-raw'),
      setting(`${at}.autodetect`, 'TRUE'),
      setting(`${at}.startConnected`, 'FALSE'),
    ];
  }
  return [
    `# ${cd.name}: CD drive`,
    setting(`${at}.present`, 'TRUE'),
    setting(`${at}.deviceType`, 'cdrom-image'),
    setting(`${at}.fileName`, iso),
    setting(`${at}.startConnected`, cd.connected ? 'TRUE' : 'FALSE'),
  ];
}

/**
 * vmxnet3 for Linux: every current kernel has its driver and it is VMware's fastest NIC. Windows has
 * no vmxnet3 driver before VMware Tools are installed, but has e1000e's from Windows 8 on.
 */
function nicModel(os: OsEntry): string {
  return os.family === 'windows' ? 'e1000e' : 'vmxnet3';
}

function ethernet(nic: ResolvedNic, os: OsEntry): string[] {
  const key = (k: string) => `ethernet${nic.index}.${k}`;
  const lines = [
    `# ${nic.name}: ${nic.link}${nic.connected ? '' : ', disconnected at power on'}`,
    setting(key('present'), 'TRUE'),
    setting(key('virtualDev'), nicModel(os)),
    setting(key('connectionType'), CONNECTION_TYPE[nic.link]),
    setting(key('startConnected'), nic.connected ? 'TRUE' : 'FALSE'),
  ];
  if (nic.mac === undefined) return [...lines, setting(key('addressType'), 'generated')];
  // Outside 00:50:56:00-3f VMware replaces a static address with a generated one at power on.
  const mac = isVmwareStaticMac(nic.mac);
  if (!mac.ok) throw new Error(`${nic.name}: ${mac.message}`);
  return [...lines, setting(key('addressType'), 'static'), setting(key('address'), mac.value)];
}

/**
 * One `key = "value"` line. VMware reads `|XX` as the byte 0xXX inside a quoted value, so the two
 * characters that would end or garble the value are written that way; line breaks and other control
 * characters have no place in any value vmgen writes and are refused.
 */
export function setting(key: string, value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error(`${key}: value ${JSON.stringify(value)} contains a control character`);
  return `${key} = "${value.replace(/\|/g, '|7C').replace(/"/g, '|22')}"`;
}

function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ');
}
