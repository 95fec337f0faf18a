import type { GuestNic } from '../../catalog/schema.js';
import type { ResolvedNic, ResolvedSpec } from '../../config/resolve.js';
import { isVmwareStaticMac } from '../../config/validators.js';
import type { Controller, VmCdDrive, VmDisk, VmLayout } from '../../disks/layout.js';
import { diskFileOf, isoOf, vmControllers, type ControllerGroup } from '../vm/controllers.js';
import { VIRTUAL_HW_VERSION } from '../vm/hardware-version.js';
import { MAX_NICS } from './capacity.js';

/**
 * VMware machine description (.vmx): the seed's Listing 4.1 with today's values. Pure: the spec and
 * the VM layout in, the text out. The disk and ISO file names come from the caller, who writes them.
 *
 * The virtual hardware level is VIRTUAL_HW_VERSION (targets/vm/hardware-version.ts). The .vmx itself
 * is for the hosted products: its disks are monolithicSparse, which ESXi does not run (ESXi takes the
 * OVA format, or disks vmkfstools -i made).
 */

export interface VmxOptions {
  /** Disk file name (relative to the .vmx) per layout disk name. */
  diskFiles: Record<string, string>;
  /** ISO per CD drive name; a drive without one falls back to the layout's path, else stays empty. */
  isoFiles: Record<string, string>;
  /** NICs on a LAN segment, by NIC name (a lab's): in place of the NIC's link, connectionType "pvn". */
  segments?: Readonly<Record<string, VmxSegment>>;
}

/** A LAN segment as Workstation names it: its id (pvnID) and, for the comment, its name. */
export interface VmxSegment {
  /** Sixteen hex bytes, "52 dd bc d5 36 19 1b 6b-0f f1 fb 1c 4c ac 44 f7". */
  pvnID: string;
  name: string;
}

/** The pvnID form VMware writes: two groups of eight hex bytes, joined by a dash. */
export const PVN_ID = /^[0-9a-f]{2}( [0-9a-f]{2}){7}-[0-9a-f]{2}( [0-9a-f]{2}){7}$/;

/**
 * Where each key this file writes is described. VMware publishes no list of .vmx keys (seed §4.1.1),
 * so the sources are the ones that read or write them: libvirt's VMX converter, whose mapping table
 * documents the keys it handles; SUSE's vmx2xml, which reads SATA, NVMe and firmware keys; the
 * vSphere API for the values; and .vmx files written by VMware itself. `#` stands for a number and
 * `<bus>` for ide, scsi, sata or nvme.
 */
const LIBVIRT_VMX = 'libvirt src/vmx/vmx.c, mapping table and virVMXFormatConfig (https://github.com/libvirt/libvirt/blob/master/src/vmx/vmx.c)';
const WILD = 'libvirt tests/vmx2xmldata, .vmx files written by VMware products (https://github.com/libvirt/libvirt/tree/master/tests/vmx2xmldata)';
const VMX2XML = 'SUSE vmx2xml, vmx2xml.py find_disk_controllers/find_disks (https://github.com/hw-claudio/vmx2xml, vmx2xml.py)';
export const VMX_KEYS_DOCUMENTED: Readonly<Record<string, string>> = {
  '.encoding': `${LIBVIRT_VMX}: writes .encoding = "UTF-8" first`,
  'config.version': `${LIBVIRT_VMX}: config.version = "8", essential; seed Listing 4.1`,
  'virtualHW.productCompatibility': `${WILD}: fusion-in-the-wild-1.vmx, written by VMware Fusion, has virtualHW.productCompatibility = "hosted"`,
  'virtualHW.version': 'vSphere Automation API, Hardware.Version: VMX_19 first supported in ESXi 7.0 U2 (https://developer.broadcom.com/xapis/vsphere-automation-api/latest/vcenter/data-structures/Vm_Hardware_Upgrade_RequestBody)',
  guestOS: `${LIBVIRT_VMX}: guestOS, essential; seed Listing 4.1`,
  displayName: `${LIBVIRT_VMX}: def->name <=> displayName, |XX-escaped (virVMXEscapeHexPipe)`,
  numvcpus: `${LIBVIRT_VMX}: def->maxvcpus <=> numvcpus`,
  memsize: `${LIBVIRT_VMX}: memsize in MB, a multiple of 4`,
  firmware: `${VMX2XML}: firmware = "efi" selects UEFI (absent: BIOS)`,
  'floppy#.present': `${LIBVIRT_VMX}: floppy[0..1].present defaults to true, disabled explicitly`,
  'scsi#.present': `${LIBVIRT_VMX}: scsi0.present`,
  'scsi#.virtualDev': `${LIBVIRT_VMX}: scsi0.virtualDev = buslogic|lsilogic|lsisas1068|pvscsi; OpenBSD vmwpvs(4) (https://man.openbsd.org/vmwpvs.4): scsi0.virtualDev = "pvscsi"`,
  'scsi#.pciSlotNumber': `${WILD}: esx-in-the-wild-14.vmx, scsi0 (pvscsi) = "160"`,
  'nvme#.pciSlotNumber': `${WILD}: esx-in-the-wild-14.vmx: PCIe devices are numbered 160, 192, 224, 256 (pciBridge4-7, function 0), then +1024 per function`,
  'pciBridge#.present': `${WILD}: esx-in-the-wild-14.vmx and fusion-in-the-wild-1.vmx: pciBridge0 and pciBridge4-7 present`,
  'pciBridge#.virtualDev': `${WILD}: pciBridge4-7.virtualDev = "pcieRootPort"`,
  'pciBridge#.functions': `${WILD}: pciBridge4-7.functions = "8"`,
  'pciBridge#.pciSlotNumber': `${WILD}: pciBridge0 = "17", pciBridge4-7 = "21"-"24"`,
  'sata#.present': `${VMX2XML}: <interface>N.present for sata`,
  'nvme#.present': `${VMX2XML}: <interface>N.present for nvme`,
  '<bus>#:#.present': `${LIBVIRT_VMX}: scsi0:0.present, ide0:0.present; ${VMX2XML}: the same key for sata and nvme`,
  '<bus>#:#.fileName': `${LIBVIRT_VMX}: scsi0:0.fileName = "<value>.vmdk" / "<value>.iso"; seed Listing 4.1`,
  '<bus>#:#.deviceType': `${LIBVIRT_VMX}: deviceType = "cdrom-image" for an ISO; VMware Workstation .vmx (https://gist.github.com/JDHatman/10602414): "cdrom-raw" for a host drive`,
  '<bus>#:#.startConnected': `${LIBVIRT_VMX}: scsi0:0.startConnected, defaults to "true"`,
  '<bus>#:#.autodetect': 'VMware Workstation .vmx (https://gist.github.com/JDHatman/10602414): sata0:1.autodetect = "TRUE" on a "cdrom-raw" drive',
  'ethernet#.present': `${LIBVIRT_VMX}: ethernet0.present`,
  'ethernet#.virtualDev': `${LIBVIRT_VMX}: virVMXParseEthernet accepts vlance, vmxnet, vmxnet3, e1000, e1000e; vSphere Automation API Ethernet.EmulationType: E1000E, VMXNET3 (https://developer.broadcom.com/xapis/vsphere-automation-api/v8.0u2/vcenter/data-structures/Vm_Hardware_Ethernet_EmulationType)`,
  'ethernet#.networkName': `${LIBVIRT_VMX}: virVMXParseEthernet reads networkName for a bridged NIC (def->data.bridge.brname), and requires it when connectionType is absent, as on ESXi`,
  'ethernet#.pciSlotNumber': `${WILD}: esx-in-the-wild-14.vmx, ethernet0 (vmxnet3) = "192"`,
  'ethernet#.connectionType': `${LIBVIRT_VMX}: connectionType = bridged|hostonly|nat; seed Listing 4.1. "pvn" (a LAN segment, labs) is Workstation's own: libvirt's virVMXParseEthernet refuses it ("Invalid value")`,
  'ethernet#.pvnID': 'VMware Workstation LAN segments: the .vmx of a NIC on one has connectionType = "pvn" and pvnID = the segment id Workstation\'s preferences.ini lists as pref.namedPVNsN.pvnID, sixteen hex bytes "52 8c 98 ed 46 f0 ae 00-28 76 d2 99 3a 4d 1c 60"; libvirt reads no pvnID',
  'ethernet#.startConnected': `${LIBVIRT_VMX}: ethernet0.startConnected, defaults to "true"; seed Listing 4.1`,
  'ethernet#.addressType': `${LIBVIRT_VMX}: addressType = "static" with 00:50:56:00:00:00-00:50:56:3f:ff:ff, else "generated"`,
  'ethernet#.address': `${LIBVIRT_VMX}: ethernet0.address with addressType = "static"`,
};

// ---------------------------------------------------------------------------------------------
// The .vmx


const CONNECTION_TYPE: Record<ResolvedNic['link'], string> = { nat: 'nat', bridged: 'bridged', hostonly: 'hostonly' };

/**
 * ESXi's default port group: ESXi joins a NIC to the network its networkName names. Workstation
 * and Fusion bridge by connectionType (to vmnet0); Fusion writes a name there too ("VMnet0" in
 * libvirt's fusion-in-the-wild-1.vmx).
 */
export const BRIDGED_NETWORK = 'VM Network';

export type VmwareNic = 'e1000' | 'e1000e' | 'vmxnet3';

/** VMware's card for the kind of card the guest drives out of the box (OsEntry.nic). */
export const VMWARE_NIC: Readonly<Record<GuestNic, VmwareNic>> = { e1000: 'e1000', e1000e: 'e1000e', paravirtual: 'vmxnet3' };

/**
 * Devices VMware puts behind a PCI Express root port, numbered here as VMware numbers them. The
 * others get no number and VMware places them itself: e1000, LSI Logic, BusLogic, IDE and AHCI on
 * the PCI bus, and LSI Logic SAS, which VMware-written files show on either.
 */
const PCIE_NICS: ReadonlySet<VmwareNic> = new Set(['vmxnet3', 'e1000e']);
const PCIE_CONTROLLERS: ReadonlySet<Controller> = new Set(['pvscsi', 'nvme']);

/** The root ports VMware creates: pciBridge4 to 7, eight functions each, with pciBridge0 before them. */
const ROOT_PORT_BRIDGES = [4, 5, 6, 7] as const;
const ROOT_PORT_FUNCTIONS = 8;
const PCI_BRIDGE_SLOTS: Readonly<Record<number, number>> = { 0: 17, 4: 21, 5: 22, 6: 23, 7: 24 };

/**
 * The pciSlotNumber of the n-th device on a root port, in the order VMware hands them out: the
 * first function of each bridge (160, 192, 224, 256), then the second (1184, …). The number is the
 * device's bus (bridge + 1) times 32, plus the root port's function times 1024.
 */
export function pcieSlotNumber(n: number): number {
  const capacity = ROOT_PORT_BRIDGES.length * ROOT_PORT_FUNCTIONS;
  if (!Number.isInteger(n) || n < 0 || n >= capacity) throw new Error(`VMware has ${capacity} PCI Express root ports; device ${n + 1} has none`);
  const bridge = ROOT_PORT_BRIDGES[n % ROOT_PORT_BRIDGES.length]!;
  const fn = Math.floor(n / ROOT_PORT_BRIDGES.length);
  return 32 * (bridge + 1) + 1024 * fn;
}

export function vmwareNicModel(spec: ResolvedSpec): VmwareNic {
  return VMWARE_NIC[spec.os.nic];
}

export function renderVmx(spec: ResolvedSpec, layout: VmLayout, opts: VmxOptions): string {
  if (spec.nics.length > MAX_NICS) throw new Error(`VMware gives a VM at most ${MAX_NICS} NICs; ${spec.name} has ${spec.nics.length}`);
  const controllers = vmControllers(layout);
  const nicModel = vmwareNicModel(spec);
  // Controllers take root ports before NICs, as in the VMware-written files: scsi0 160, ethernet0 192.
  const onRootPort = [
    ...controllers.filter((g) => PCIE_CONTROLLERS.has(g.model)).map((g) => `${g.bus}${g.index}`),
    ...(PCIE_NICS.has(nicModel) ? spec.nics.map((n) => `ethernet${n.index}`) : []),
  ];
  const slots = new Map(onRootPort.map((device, n) => [device, pcieSlotNumber(n)]));
  const sections = [
    header(spec),
    machine(spec, layout),
    rootPorts(),
    ...controllers.map((g) => controller(g, opts, slots.get(`${g.bus}${g.index}`))),
    ...spec.nics.map((nic) => ethernet(nic, nicModel, slots.get(`ethernet${nic.index}`), opts.segments?.[nic.name])),
  ];
  return sections.map((s) => s.join('\n')).join('\n\n') + '\n';
}

function header(spec: ResolvedSpec): string[] {
  return [
    '#!/usr/bin/vmware',
    `# ${oneLine(spec.name)}: ${oneLine(spec.os.label)}, generated by vmgen.`,
    `# For VMware Workstation 16.2, Player 16.2, Fusion 12.2 or later (virtual hardware ${VIRTUAL_HW_VERSION}).`,
    '# Its disks are hosted sparse disks, which ESXi does not run: for ESXi, build --format ova.',
    setting('.encoding', 'UTF-8'),
    setting('config.version', '8'),
    setting('virtualHW.version', String(VIRTUAL_HW_VERSION)),
    setting('virtualHW.productCompatibility', 'hosted'),
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

/**
 * Without root ports a PCI Express device has no slot, and VMware refuses to power the machine on.
 * VMware writes them into every machine it makes, whatever its devices, and so does vmgen.
 */
function rootPorts(): string[] {
  const lines = ['# PCI Express root ports, as VMware writes them: the paravirtual, NVMe and e1000e devices sit behind them.'];
  lines.push(setting('pciBridge0.present', 'TRUE'), setting('pciBridge0.pciSlotNumber', String(PCI_BRIDGE_SLOTS[0])));
  for (const bridge of ROOT_PORT_BRIDGES) {
    const key = (k: string) => `pciBridge${bridge}.${k}`;
    lines.push(
      setting(key('present'), 'TRUE'),
      setting(key('virtualDev'), 'pcieRootPort'),
      setting(key('functions'), String(ROOT_PORT_FUNCTIONS)),
      setting(key('pciSlotNumber'), String(PCI_BRIDGE_SLOTS[bridge])),
    );
  }
  return lines;
}

const LABEL: Record<Controller, string> = {
  ide: 'IDE', sata: 'SATA', nvme: 'NVMe', lsilogic: 'LSI Logic', buslogic: 'BusLogic', lsisas1068: 'LSI Logic SAS', pvscsi: 'VMware Paravirtual SCSI',
};

function controller(group: ControllerGroup, opts: VmxOptions, slot: number | undefined): string[] {
  const name = `${group.bus}${group.index}`;
  const lines = [`# ${name}: ${LABEL[group.model]} controller`];
  // The IDE controllers are always there; the others exist once present.
  if (group.bus !== 'ide') lines.push(setting(`${name}.present`, 'TRUE'));
  if (group.bus === 'scsi') lines.push(setting(`${name}.virtualDev`, group.model));
  if (slot !== undefined) lines.push(setting(`${name}.pciSlotNumber`, String(slot)));
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

function ethernet(nic: ResolvedNic, model: VmwareNic, slot: number | undefined, segment: VmxSegment | undefined): string[] {
  const key = (k: string) => `ethernet${nic.index}.${k}`;
  if (segment !== undefined && !PVN_ID.test(segment.pvnID)) throw new Error(`${nic.name}: ${JSON.stringify(segment.pvnID)} is not a pvnID (sixteen hex bytes, 8-8)`);
  const connection = segment === undefined
    ? [setting(key('connectionType'), CONNECTION_TYPE[nic.link]), ...(nic.link === 'bridged' ? [setting(key('networkName'), BRIDGED_NETWORK)] : [])]
    : [setting(key('connectionType'), 'pvn'), setting(key('pvnID'), segment.pvnID)];
  const lines = [
    `# ${nic.name}: ${segment === undefined ? nic.link : `LAN segment ${oneLine(segment.name)}`}${nic.connected ? '' : ', disconnected at power on'}`,
    setting(key('present'), 'TRUE'),
    setting(key('virtualDev'), model),
    ...connection,
    ...(slot !== undefined ? [setting(key('pciSlotNumber'), String(slot))] : []),
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
