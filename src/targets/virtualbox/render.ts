import { isWindows } from '../../catalog/families.js';
import type { OsEntry } from '../../catalog/schema.js';
import type { ResolvedNic, ResolvedSpec } from '../../config/resolve.js';
import type { Controller, VmCdDrive, VmLayout } from '../../disks/layout.js';
import { OVF_NS, VMDK_STREAM_OPTIMIZED, itemXml, type Rasd } from '../ovf/xml.js';
import { comment, esc } from '../xml-text.js';
import { stableUuid } from '../ovf/uuid.js';
import { isoOf, vmControllers, type AttachedDevice, type ControllerGroup } from '../vm/controllers.js';
import { VIRTUAL_HW_VERSION } from '../vm/hardware-version.js';
import { vboxMachineXml } from './machine.js';
import { MAX_NICS } from './capacity.js';

export { renderManifest } from '../ovf/manifest.js';
export { VMDK_STREAM_OPTIMIZED };

/**
 * VirtualBox appliance: an OVF 1.0 descriptor (DMTF DSP0243) in the form VirtualBox itself exports
 * (ApplianceImplExport.cpp): the OVF items, then VirtualBox's own <vbox:Machine>, from which its
 * importer takes firmware, MAC addresses, cable state and NIC attachment (see machine.ts).
 *
 * The virtual system type is VMware's `vmx-NN`, not the `virtualbox-2.2` VirtualBox writes:
 * VMware's ovftool refuses a hardware family it does not know unless run with --lax, while
 * VirtualBox reads the type only to pick an E1000 variant for an OVF without <vbox:Machine>
 * (ApplianceImplImport.cpp, Appliance::interpret), which these never are. For the same reason the
 * SATA and NVMe controllers carry VMware's subtypes, which VirtualBox's reader accepts beside its
 * own (ovfreader.cpp, ResourceType_OtherStorageDevice).
 */
export const OVF_VIRTUAL_SYSTEM_TYPE = `vmx-${VIRTUAL_HW_VERSION}`;

/** The DiskSection format of a CD image (ApplianceImpl.cpp, g_pszISOURI); VirtualBox imports it as a DVD image. */
export const ISO_FORMAT = 'http://www.ecma-international.org/publications/standards/Ecma-119.htm';

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
  /** Size of each packaged ISO by file name, when known (the preview does not know it). */
  isoBytes?: Record<string, number>;
  /**
   * NICs on a VirtualBox internal network, by NIC name (a lab's): the network's name is the NIC's
   * connection in the standard section and its <InternalNetwork> in VirtualBox's own.
   */
  internalNetworks?: Readonly<Record<string, string>>;
}

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
  const windows = isWindows(os);
  const table = windows ? WINDOWS_TYPES[os.release] : LINUX_TYPES[os.distribution];
  if (table === undefined && windows) throw new Error(`no CIM operating system type for ${os.id}`);
  return (table ?? OTHER_LINUX)[os.bits];
}

/** The names VirtualBox's importer knows for a NIC's attachment; any other name becomes "Bridged". */
const CONNECTION: Record<ResolvedNic['link'], string> = { nat: 'NAT', bridged: 'Bridged', hostonly: 'HostOnly' };


/** SCSI subtypes both VirtualBox (ApplianceImplExport.cpp) and VMware (open-vmdk ova-compose.py, RasdScsiController) write. */
const SCSI_SUBTYPE: Record<Extract<Controller, 'lsilogic' | 'buslogic' | 'lsisas1068' | 'pvscsi'>, string> = {
  lsilogic: 'lsilogic',
  buslogic: 'buslogic',
  lsisas1068: 'lsilogicsas',
  // VirtualBox has no PVSCSI; its LSI Logic is the same LSI53C1030 VMware's is, driven by mptspi.
  pvscsi: 'lsilogic',
};

export function renderOvf(spec: ResolvedSpec, layout: VmLayout, opts: OvfOptions): string {
  if (spec.nics.length > MAX_NICS) throw new Error(`VirtualBox gives a VM at most ${MAX_NICS} NICs; ${spec.name} has ${spec.nics.length}`);
  const groups = withBothIdeChannels(vmControllers(layout));
  const files = packageFiles(spec, layout, opts);
  const connection = (nic: ResolvedNic): string => opts.internalNetworks?.[nic.name] ?? CONNECTION[nic.link];
  const items = hardwareItems(spec, groups, files, connection);
  const networks = [...new Set(spec.nics.map(connection))];
  const type = guestType(spec.os);
  const uuidOf = (name: string) => files.find((f) => f.disk?.name === name)!.disk!.uuid;
  const machine = vboxMachineXml(spec, layout, groups, type.vbox, {
    machine: stableUuid(spec.name, 'machine'),
    disk: uuidOf,
    iso: (cd) => files.find((f) => f.cds.some((c) => c.name === cd))?.disk?.uuid,
  }, opts.internalNetworks);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- ${comment(spec.name)}: ${comment(spec.os.label)}, generated by vmgen. Import with: VBoxManage import FILE (see the annotation) -->`,
    `<Envelope ovf:version="1.0" xml:lang="en-US" xmlns="${OVF_NS.ovf}" xmlns:ovf="${OVF_NS.ovf}" xmlns:rasd="${OVF_NS.rasd}" xmlns:vssd="${OVF_NS.vssd}" xmlns:xsi="${OVF_NS.xsi}" xmlns:vbox="${OVF_NS.vbox}">`,
    '  <References>',
    ...files.map((f) => `    <File ovf:href="${esc(f.href)}" ovf:id="${f.id}"${f.bytes === undefined ? '' : ` ovf:size="${f.bytes}"`}/>`),
    '  </References>',
    '  <DiskSection>',
    '    <Info>List of the virtual disks used in the package</Info>',
    ...files.map(diskXml),
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
    ...items.flatMap((item) => itemXml(item)),
    '    </VirtualHardwareSection>',
    ...machine,
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
export function withBothIdeChannels(groups: ControllerGroup[]): ControllerGroup[] {
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
  /** The DiskSection entry pointing at this file; `name` is the layout disk's, or the ISO's file name. */
  disk?: { name: string; diskId: string; format: string; capacityBytes: number; populatedBytes?: number; uuid: string };
  /** The CD drives holding this file, when it is an ISO. */
  cds: VmCdDrive[];
}

/**
 * Disks first (file1, vmdisk1 …), then the ISOs inside the package (isoN, one per distinct file),
 * each a DiskSection entry too: VirtualBox's reader attaches a CD image only through ovf:/disk/
 * (ovfreader.cpp, HandleVirtualSystemContent: a CD's HostResource is looked up among the disks).
 */
function packageFiles(spec: ResolvedSpec, layout: VmLayout, opts: OvfOptions): PackageFile[] {
  const disks = layout.disks.map((d, i): PackageFile => {
    const disk = opts.disks.find((x) => x.name === d.name);
    if (disk === undefined) throw new Error(`no appliance file given for disk ${d.name}`);
    return {
      id: `file${i + 1}`, href: disk.file, bytes: disk.fileBytes, cds: [],
      disk: {
        name: d.name, diskId: `vmdisk${i + 1}`, format: VMDK_STREAM_OPTIMIZED, capacityBytes: disk.capacityBytes,
        ...(disk.populatedBytes === undefined ? {} : { populatedBytes: disk.populatedBytes }), uuid: stableUuid(spec.name, 'disk', d.name),
      },
    };
  });
  const isos = new Map<string, VmCdDrive[]>();
  for (const cd of layout.cdDrives) {
    const iso = packagedIso(cd, opts);
    if (iso !== undefined) isos.set(iso, [...(isos.get(iso) ?? []), cd]);
  }
  return [...disks, ...[...isos].map(([href, cds], i): PackageFile => {
    const bytes = opts.isoBytes?.[href];
    return {
      id: `file${disks.length + i + 1}`, href, ...(bytes === undefined ? {} : { bytes }), cds,
      disk: { name: href, diskId: `iso${i + 1}`, format: ISO_FORMAT, capacityBytes: bytes ?? 0, uuid: stableUuid(spec.name, 'iso', href) },
    };
  })];
}

/** An absolute path is a file on the build host: an appliance can only carry files inside it. */
function packagedIso(cd: VmCdDrive, opts: OvfOptions): string | undefined {
  const iso = opts.isoFiles?.[cd.name];
  return iso === undefined || iso.startsWith('/') ? undefined : iso;
}

/** vbox:uuid ties the disk to the <Image> in vbox:Machine that attaches it (ApplianceImplImport.cpp, i_importVBoxMachine). */
function diskXml(file: PackageFile): string[] {
  const d = file.disk!;
  const populated = d.populatedBytes === undefined ? '' : ` ovf:populatedSize="${d.populatedBytes}"`;
  return [`    <Disk ovf:capacity="${d.capacityBytes}" ovf:diskId="${d.diskId}" ovf:fileRef="${file.id}" ovf:format="${d.format}"${populated} vbox:uuid="${d.uuid}"/>`];
}

// ---------------------------------------------------------------------------------------------
// Hardware items

function hardwareItems(spec: ResolvedSpec, groups: ControllerGroup[], files: PackageFile[], connection: (nic: ResolvedNic) => string): Rasd[] {
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
  for (const nic of spec.nics) add(nicItem(nic, connection(nic)));
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
 * cannot be expressed. IDE carries no subtype, as in VMware's OVFs; VirtualBox then takes PIIX4.
 */
function controllerItem(group: ControllerGroup): Rasd {
  const name = `${group.bus}Controller${group.index}`;
  if (group.bus === 'ide') return { Address: group.index, Caption: name, Description: 'IDE Controller', ElementName: name, ResourceType: 5 };
  if (group.index > 0) throw new Error(`${group.bus}${group.index}: VirtualBox imports one ${group.bus.toUpperCase()} controller from an OVF; move its devices to ${group.bus}0`);
  if (group.bus === 'scsi') {
    const subtype = SCSI_SUBTYPE[group.model as keyof typeof SCSI_SUBTYPE] ?? 'lsilogic';
    return { Address: 0, Caption: name, Description: 'SCSI Controller', ElementName: name, ResourceSubType: subtype, ResourceType: 6 };
  }
  const subtype = group.bus === 'sata' ? 'vmware.sata.ahci' : 'vmware.nvme.controller';
  return { Address: 0, Caption: name, Description: `${group.bus === 'sata' ? 'SATA' : 'NVMe'} Controller`, ElementName: name, ResourceSubType: subtype, ResourceType: 20 };
}

function diskItem(device: Extract<AttachedDevice, { type: 'disk' }>, parent: number, n: number, files: PackageFile[]): Rasd {
  const file = files.find((f) => f.disk?.name === device.disk.name)!;
  return {
    AddressOnParent: device.unit, Caption: `disk${n}`, Description: 'Disk Image', ElementName: `disk${n}`,
    HostResource: `ovf:/disk/${file.disk!.diskId}`, Parent: parent, ResourceType: 17,
  };
}

function cdItem(device: Extract<AttachedDevice, { type: 'cdrom' }>, parent: number, n: number, files: PackageFile[]): Rasd {
  const file = files.find((f) => f.cds.includes(device.cd));
  return {
    AddressOnParent: device.unit, AutomaticAllocation: device.cd.connected, Caption: `cdrom${n}`, Description: 'CD-ROM Drive', ElementName: `cdrom${n}`,
    ...(file === undefined ? {} : { HostResource: `ovf:/disk/${file.disk!.diskId}` }), Parent: parent, ResourceType: 15,
  };
}

/**
 * E1000 for every guest: VirtualBox's importer knows only the PCNet32 and E1000 subtypes, and VMware
 * knows E1000 too; the exact chip is vbox:Machine's (machine.ts, vboxAdapterType).
 */
function nicItem(nic: ResolvedNic, connection: string): Rasd {
  const caption = `Ethernet adapter on '${connection}'`;
  return {
    ...(nic.mac === undefined ? {} : { Address: nic.mac }),
    AutomaticAllocation: nic.connected, Caption: caption, Connection: connection, ElementName: caption,
    ResourceSubType: 'E1000', ResourceType: 10,
  };
}

// ---------------------------------------------------------------------------------------------
// What the user still decides

/**
 * VirtualBox's importer keeps MAC addresses only when asked to (ApplianceImplImport.cpp,
 * i_importVBoxMachine: ImportOptions_KeepAllMACs), and a bridged or host-only adapter needs the
 * importing host's interface; both are said here, where VirtualBox's import dialog shows them.
 */
function annotation(spec: ResolvedSpec, layout: VmLayout, opts: OvfOptions): string {
  const outside = layout.cdDrives.filter((cd) => packagedIso(cd, opts) === undefined && isoOf(cd, opts.isoFiles) !== undefined);
  const internal = (n: ResolvedNic): string | undefined => opts.internalNetworks?.[n.name];
  const hostIfs = spec.nics.filter((n) => n.link !== 'nat' && internal(n) === undefined);
  return [
    `${spec.os.label}, generated by vmgen.`,
    ...(spec.nics.some((n) => n.mac !== undefined) ? ['Import with VBoxManage import FILE --options keepallmacs (or "Include all network adapter MAC addresses") to keep the MAC addresses.'] : []),
    ...spec.nics.filter((n) => internal(n) !== undefined).map((n) => `Adapter ${n.index + 1} (${n.name}) is on the internal network ${internal(n)!}.`),
    ...hostIfs.map((n) => `Adapter ${n.index + 1} (${n.name}) is ${n.link === 'bridged' ? 'bridged' : 'host-only'}: choose the host interface in its network settings.`),
    ...outside.map((cd) => `CD drive ${cd.name} is empty; its ISO stays outside the appliance: ${isoOf(cd, opts.isoFiles)}`),
  ].join('\n');
}
