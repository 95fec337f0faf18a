import type { OsEntry } from '../../catalog/schema.js';
import type { ResolvedNic, ResolvedSpec } from '../../config/resolve.js';
import type { Controller, VmCdDrive, VmLayout } from '../../vm/layout.js';
import { isoOf, vmControllers, type AttachedDevice, type ControllerGroup } from '../vmware/render.js';

/**
 * VirtualBox appliance: an OVF 1.0 descriptor (DMTF DSP0243) in the form VirtualBox itself exports
 * (VirtualSystemType "virtualbox-2.2", its controller and NIC subtypes), plus the manifest. No
 * <vbox:Machine>: when present VirtualBox takes every setting from it instead of the OVF, so it
 * would have to repeat the whole machine. The price is what plain OVF cannot say to VirtualBox's
 * importer: UEFI firmware, MAC addresses and unplugged cables; virtualBoxFixups() gives the
 * VBoxManage command that sets them after the import, and the annotation repeats it for users.
 */
export const OVF_VIRTUAL_SYSTEM_TYPE = 'virtualbox-2.2';
export const VMDK_STREAM_OPTIMIZED = 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized';

export interface OvfDisk {
  /** The layout disk's name. */
  name: string;
  /** File name inside the appliance. */
  file: string;
  /** Size the guest sees. */
  capacityBytes: number;
  /** Bytes in use inside the disk, when known. */
  populatedBytes?: number;
  /** Size of the (compressed) file itself. */
  fileBytes: number;
}

export interface OvfOptions {
  disks: OvfDisk[];
  /** ISO per CD drive name. Only files inside the appliance (relative names) can be referenced. */
  isoFiles?: Record<string, string>;
}

const NS = {
  ovf: 'http://schemas.dmtf.org/ovf/envelope/1',
  rasd: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData',
  vssd: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  vbox: 'http://www.virtualbox.org/ovf/machine',
};

/** CIM_OperatingSystem OSType values (as VirtualBox's ovfreader.h lists them) and VirtualBox's own guest type. */
interface GuestType { cim: number; vbox: string }

const LINUX_TYPES: Record<string, { 64: GuestType; 32: GuestType }> = {
  debian: { 64: { cim: 96, vbox: 'Debian_64' }, 32: { cim: 95, vbox: 'Debian' } },
  ubuntu: { 64: { cim: 94, vbox: 'Ubuntu_64' }, 32: { cim: 93, vbox: 'Ubuntu' } },
  fedora: { 64: { cim: 101, vbox: 'Fedora_64' }, 32: { cim: 36, vbox: 'Fedora' } },
  rocky: { 64: { cim: 80, vbox: 'RedHat_64' }, 32: { cim: 79, vbox: 'RedHat' } },
  alma: { 64: { cim: 80, vbox: 'RedHat_64' }, 32: { cim: 79, vbox: 'RedHat' } },
};

const WINDOWS_TYPES: Record<string, { 64: GuestType; 32: GuestType }> = {
  xp: { 64: { cim: 71, vbox: 'WindowsXP_64' }, 32: { cim: 67, vbox: 'WindowsXP' } },
  7: { 64: { cim: 105, vbox: 'Windows7_64' }, 32: { cim: 105, vbox: 'Windows7' } },
  10: { 64: { cim: 120, vbox: 'Windows10_64' }, 32: { cim: 119, vbox: 'Windows10' } },
  // CIM has no Windows 11 or Server 2022 yet; the nearest ones, with VirtualBox's exact type beside.
  11: { 64: { cim: 120, vbox: 'Windows11_64' }, 32: { cim: 119, vbox: 'Windows10' } },
  2022: { 64: { cim: 118, vbox: 'Windows2022_64' }, 32: { cim: 118, vbox: 'Windows2016' } },
};

/** CIM "Linux 64-Bit" / "LINUX" for distributions the table does not know. */
const OTHER_LINUX = { 64: { cim: 101, vbox: 'Linux_64' }, 32: { cim: 36, vbox: 'Linux' } };

export function guestType(os: OsEntry): GuestType {
  const table = os.family === 'windows' ? WINDOWS_TYPES[os.release] : LINUX_TYPES[os.distribution];
  if (table === undefined && os.family === 'windows') throw new Error(`no CIM operating system type for ${os.id}`);
  return (table ?? OTHER_LINUX)[os.bits];
}

/** The names VirtualBox's importer knows for a NIC's attachment; any other name becomes "Bridged". */
const CONNECTION: Record<ResolvedNic['link'], string> = { nat: 'NAT', bridged: 'Bridged', hostonly: 'HostOnly' };

/** VirtualBox's PIIX3 chipset has eight network adapters. */
export const MAX_NICS = 8;

const SCSI_SUBTYPE: Partial<Record<Controller, string>> = {
  lsilogic: 'lsilogic',
  buslogic: 'buslogic',
  lsisas1068: 'lsilogicsas',
  // VirtualBox has no PVSCSI; its LSI Logic is the same LSI53C1030 VMware's is, driven by mptspi.
  pvscsi: 'lsilogic',
};

/** RASD fields of one <Item>; written in alphabetical order, as the CIM schema's sequence requires. */
type Rasd = Record<string, string | number | boolean>;

export function renderOvf(spec: ResolvedSpec, layout: VmLayout, opts: OvfOptions): string {
  if (spec.nics.length > MAX_NICS) throw new Error(`VirtualBox gives a VM at most ${MAX_NICS} NICs; ${spec.name} has ${spec.nics.length}`);
  const groups = withBothIdeChannels(vmControllers(layout));
  const files = packageFiles(layout, opts);
  const items = hardwareItems(spec, groups, files);
  const networks = [...new Set(spec.nics.map((n) => CONNECTION[n.link]))];
  const type = guestType(spec.os);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- ${comment(spec.name)}: ${comment(spec.os.label)}, generated by vmgen. Import with: VBoxManage import FILE -->`,
    `<Envelope ovf:version="1.0" xml:lang="en-US" xmlns="${NS.ovf}" xmlns:ovf="${NS.ovf}" xmlns:rasd="${NS.rasd}" xmlns:vssd="${NS.vssd}" xmlns:xsi="${NS.xsi}" xmlns:vbox="${NS.vbox}">`,
    '  <References>',
    ...files.map((f) => `    <File ovf:href="${esc(f.href)}" ovf:id="${f.id}"${f.bytes === undefined ? '' : ` ovf:size="${f.bytes}"`}/>`),
    '  </References>',
    '  <DiskSection>',
    '    <Info>List of the virtual disks used in the package</Info>',
    ...files.flatMap((f) => (f.disk === undefined ? [] : [diskXml(f.disk, f)])),
    '  </DiskSection>',
    '  <NetworkSection>',
    '    <Info>Logical networks used in the package</Info>',
    ...networks.flatMap((n) => [`    <Network ovf:name="${n}">`, '      <Description>Logical network used by this appliance.</Description>', '    </Network>']),
    '  </NetworkSection>',
    `  <VirtualSystem ovf:id="${esc(spec.name)}">`,
    '    <Info>A virtual machine</Info>',
    '    <AnnotationSection>',
    '      <Info>A human-readable annotation</Info>',
    `      <Annotation>${esc(annotation(spec, layout, opts))}</Annotation>`,
    '    </AnnotationSection>',
    `    <OperatingSystemSection ovf:id="${type.cim}">`,
    '      <Info>The kind of installed guest operating system</Info>',
    `      <Description>${esc(spec.os.label)}</Description>`,
    `      <vbox:OSType ovf:required="false">${type.vbox}</vbox:OSType>`,
    '    </OperatingSystemSection>',
    '    <VirtualHardwareSection>',
    '      <Info>Virtual hardware requirements for a virtual machine</Info>',
    '      <System>',
    '        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>',
    '        <vssd:InstanceID>0</vssd:InstanceID>',
    `        <vssd:VirtualSystemIdentifier>${esc(spec.name)}</vssd:VirtualSystemIdentifier>`,
    `        <vssd:VirtualSystemType>${OVF_VIRTUAL_SYSTEM_TYPE}</vssd:VirtualSystemType>`,
    '      </System>',
    ...items.flatMap(itemXml),
    '    </VirtualHardwareSection>',
    '  </VirtualSystem>',
    '</Envelope>',
    '',
  ].join('\n');
}

/**
 * VirtualBox's importer takes the first IDE controller it reads for the primary channel unless it
 * finds two with Address 0 and 1, so a drive on the secondary channel alone would move to the
 * primary one: both channels are always written, as VirtualBox's own export does.
 */
function withBothIdeChannels(groups: ControllerGroup[]): ControllerGroup[] {
  const ide = groups.filter((g) => g.bus === 'ide');
  if (ide.length !== 1) return groups;
  const other: ControllerGroup = { bus: 'ide', index: 1 - ide[0]!.index, model: 'ide', devices: [] };
  const at = groups.indexOf(ide[0]!);
  const pair = other.index === 0 ? [other, ide[0]!] : [ide[0]!, other];
  return [...groups.slice(0, at), ...pair, ...groups.slice(at + 1)];
}

// ---------------------------------------------------------------------------------------------
// References and disks

interface PackageFile {
  id: string;
  href: string;
  bytes?: number;
  /** Set for disk images: the DiskSection entry pointing at this file. */
  disk?: OvfDisk & { diskId: string };
  /** Set for an ISO: the CD drive holding it. */
  cd?: VmCdDrive;
}

/** Disks first (file1, vmdisk1 …), then the ISOs inside the package. */
function packageFiles(layout: VmLayout, opts: OvfOptions): PackageFile[] {
  const disks = layout.disks.map((d, i): PackageFile => {
    const disk = opts.disks.find((x) => x.name === d.name);
    if (disk === undefined) throw new Error(`no appliance file given for disk ${d.name}`);
    return { id: `file${i + 1}`, href: disk.file, bytes: disk.fileBytes, disk: { ...disk, diskId: `vmdisk${i + 1}` } };
  });
  const isos = layout.cdDrives.flatMap((cd) => {
    const iso = packagedIso(cd, opts);
    return iso === undefined ? [] : [{ href: iso, cd }];
  });
  return [...disks, ...isos.map((f, i) => ({ id: `file${disks.length + i + 1}`, ...f }))];
}

/** An absolute path is a file on the build host: an appliance can only carry files inside it. */
function packagedIso(cd: VmCdDrive, opts: OvfOptions): string | undefined {
  const iso = opts.isoFiles?.[cd.name];
  return iso === undefined || iso.startsWith('/') ? undefined : iso;
}

function diskXml(disk: OvfDisk & { diskId: string }, file: PackageFile): string {
  const populated = disk.populatedBytes === undefined ? '' : ` ovf:populatedSize="${disk.populatedBytes}"`;
  return `    <Disk ovf:capacity="${disk.capacityBytes}" ovf:diskId="${disk.diskId}" ovf:fileRef="${file.id}" ovf:format="${VMDK_STREAM_OPTIMIZED}"${populated}/>`;
}

// ---------------------------------------------------------------------------------------------
// Hardware items

function hardwareItems(spec: ResolvedSpec, groups: ControllerGroup[], files: PackageFile[]): Rasd[] {
  const items: Rasd[] = [];
  const add = (item: Rasd): number => {
    items.push({ ...item, InstanceID: items.length + 1 });
    return items.length;
  };
  add(cpuItem(spec.cpus));
  add(memoryItem(spec.ramMiB));
  // Controllers before their devices: VirtualBox resolves a device's Parent as it reads.
  const parents = groups.map((g) => add(controllerItem(g)));
  let disks = 0;
  let cdroms = 0;
  groups.forEach((g, i) => {
    for (const device of g.devices) {
      add(device.type === 'disk' ? diskItem(device, parents[i]!, ++disks, files) : cdItem(device, parents[i]!, ++cdroms, files));
    }
  });
  for (const nic of spec.nics) add(nicItem(nic));
  return items;
}

function cpuItem(cpus: number): Rasd {
  const name = `${cpus} virtual CPU`;
  return { Caption: name, Description: 'Number of virtual CPUs', ElementName: name, ResourceType: 3, VirtualQuantity: cpus };
}

function memoryItem(mib: number): Rasd {
  const name = `${mib} MB of memory`;
  return { AllocationUnits: 'MegaBytes', Caption: name, Description: 'Memory Size', ElementName: name, ResourceType: 4, VirtualQuantity: mib };
}

/**
 * VirtualBox's single IDE controller has two channels, which OVF calls two controllers (Address 0
 * and 1); of the others its importer takes one per kind, so a second SATA, SCSI or NVMe controller
 * cannot be expressed.
 */
function controllerItem(group: ControllerGroup): Rasd {
  const name = `${group.bus}Controller${group.index}`;
  if (group.bus === 'ide') return { Address: group.index, Caption: name, Description: 'IDE Controller', ElementName: name, ResourceSubType: 'PIIX4', ResourceType: 5 };
  if (group.index > 0) throw new Error(`${group.bus}${group.index}: VirtualBox imports one ${group.bus.toUpperCase()} controller from an OVF; move its devices to ${group.bus}0`);
  if (group.bus === 'scsi') {
    return { Address: 0, Caption: name, Description: 'SCSI Controller', ElementName: name, ResourceSubType: SCSI_SUBTYPE[group.model] ?? 'lsilogic', ResourceType: 6 };
  }
  const subtype = group.bus === 'sata' ? 'AHCI' : 'NVMe';
  return { Address: 0, Caption: name, Description: `${group.bus === 'sata' ? 'SATA' : 'NVMe'} Controller`, ElementName: name, ResourceSubType: subtype, ResourceType: 20 };
}

function diskItem(device: Extract<AttachedDevice, { type: 'disk' }>, parent: number, n: number, files: PackageFile[]): Rasd {
  const file = files.find((f) => f.disk?.name === device.disk.name)!;
  return {
    AddressOnParent: device.unit, Caption: `disk${n}`, Description: 'Disk Image', ElementName: `disk${n}`,
    HostResource: `ovf:/disk/${file.disk!.diskId}`, Parent: parent, ResourceType: 17,
  };
}

/** A packaged ISO is referenced as a file (DSP0243 ovf:/file/); VirtualBox's importer creates the drive empty either way. */
function cdItem(device: Extract<AttachedDevice, { type: 'cdrom' }>, parent: number, n: number, files: PackageFile[]): Rasd {
  const file = files.find((f) => f.cd === device.cd);
  return {
    AddressOnParent: device.unit, AutomaticAllocation: device.cd.connected, Caption: `cdrom${n}`, Description: 'CD-ROM Drive', ElementName: `cdrom${n}`,
    ...(file === undefined ? {} : { HostResource: `ovf:/file/${file.id}` }), Parent: parent, ResourceType: 15,
  };
}

/**
 * E1000 for every guest: VirtualBox's importer knows only the PCNet32 and E1000 subtypes (anything
 * else becomes the guest type's default), and every Linux kernel and Windows since Vista drives it.
 */
function nicItem(nic: ResolvedNic): Rasd {
  const caption = `Ethernet adapter on '${CONNECTION[nic.link]}'`;
  return {
    ...(nic.mac === undefined ? {} : { Address: nic.mac }),
    AutomaticAllocation: nic.connected, Caption: caption, Connection: CONNECTION[nic.link], ElementName: caption,
    ResourceSubType: 'E1000', ResourceType: 10,
  };
}

function itemXml(item: Rasd): string[] {
  const fields = Object.keys(item).sort().map((k) => `        <rasd:${k}>${esc(String(item[k]))}</rasd:${k}>`);
  return ['      <Item>', ...fields, '      </Item>'];
}

// ---------------------------------------------------------------------------------------------
// What the import leaves out

/**
 * The VBoxManage command that sets, after `VBoxManage import`, what a plain OVF cannot tell
 * VirtualBox: UEFI firmware, fixed MAC addresses and unplugged cables. Undefined when none applies.
 */
export function virtualBoxFixups(spec: ResolvedSpec, layout: VmLayout): [string, ...string[]] | undefined {
  const args = [
    ...(layout.firmware === 'efi' ? ['--firmware', 'efi'] : []),
    ...spec.nics.flatMap((nic) => [
      ...(nic.mac === undefined ? [] : [`--macaddress${nic.index + 1}`, nic.mac.replace(/:/g, '').toUpperCase()]),
      ...(nic.connected ? [] : [`--cableconnected${nic.index + 1}`, 'off']),
    ]),
  ];
  return args.length === 0 ? undefined : ['VBoxManage', 'modifyvm', spec.name, ...args];
}

function annotation(spec: ResolvedSpec, layout: VmLayout, opts: OvfOptions): string {
  const fixups = virtualBoxFixups(spec, layout);
  const outside = layout.cdDrives.filter((cd) => packagedIso(cd, opts) === undefined && isoOf(cd, opts.isoFiles) !== undefined);
  return [
    `${spec.os.label}, generated by vmgen.`,
    ...(fixups === undefined ? [] : [`After importing, run: ${fixups.join(' ')}`]),
    ...outside.map((cd) => `CD drive ${cd.name} is empty; its ISO stays outside the appliance: ${isoOf(cd, opts.isoFiles)}`),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Manifest

/** The OVF manifest (DSP0243 §5.1): one `SHA256(FILE)= DIGEST` line per file of the package. */
export function renderManifest(files: Array<{ name: string; sha256: string }>): string {
  return files.map((f) => {
    if (/[\u0000-\u001f()]/.test(f.name) || f.name === '') throw new Error(`${JSON.stringify(f.name)} cannot be named in a manifest`);
    if (!/^[0-9a-f]{64}$/i.test(f.sha256)) throw new Error(`${f.name}: ${JSON.stringify(f.sha256)} is not a SHA-256 digest`);
    return `SHA256(${f.name})= ${f.sha256.toLowerCase()}\n`;
  }).join('');
}

function esc(s: string): string {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s)) throw new Error(`${JSON.stringify(s)} contains a character XML cannot hold`);
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** "--" may not appear inside an XML comment. */
function comment(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/-{2,}/g, '-');
}
