import type { OsEntry } from '../../catalog/schema.js';
import type { ResolvedNic, ResolvedSpec } from '../../config/resolve.js';
import type { Controller, VmLayout } from '../../vm/layout.js';
import { diskFileOf, isoOf, vmControllers, type AttachedDevice, type ControllerGroup } from '../vmware/render.js';

/**
 * QEMU/KVM: a libvirt domain XML (`virsh define`) and a run.sh with the plain qemu-system-x86_64
 * command line, both from the same layout. Pure: spec, layout and file paths in, text out.
 *
 * The guest gets the controllers its layout names, not virtio everywhere: the same disk image then
 * boots under VMware, VirtualBox and QEMU with the same drivers (Linux has all of them). Where QEMU
 * lacks VMware's model (LSI Logic, BusLogic) the LSI SAS1068 stands in, and libvirt 9 (Debian 12)
 * has no NVMe disk bus, so in the domain XML NVMe disks are virtio-blk while run.sh gives them a
 * real NVMe controller. Disk images are qcow2.
 */
export const QEMU_BINARY = 'qemu-system-x86_64';

export interface QemuOptions {
  /** Disk image (qcow2) per layout disk name. Absolute for libvirt; run.sh resolves relative ones from its own folder. */
  diskPaths: Record<string, string>;
  /** ISO per CD drive name; a drive without one falls back to the layout's path, else stays empty. */
  isoPaths: Record<string, string>;
  /** OVMF firmware for UEFI guests: the read-only code and this machine's own writable copy of the variables. */
  ovmf?: { code: string; vars: string };
}

/** libvirt network names per link. NAT uses libvirt's own "default" network; see renderLibvirtHostonlyNetwork. */
export const LIBVIRT_NAT_NETWORK = 'default';
export const LIBVIRT_HOSTONLY_NETWORK = 'vmgen-hostonly';
/** The usual name of a bridge over the host's NIC (as in the LXC target). */
export const HOST_BRIDGE = 'br0';

interface ScsiModel {
  qemu: string;
  libvirt: string;
  /** Highest SCSI id the QEMU model accepts. */
  maxUnit: number;
}

/**
 * QEMU has neither VMware's LSI Logic (LSI53C1030) nor BusLogic. Its LSI SAS1068 is driven by the
 * same Fusion-MPT driver family (mptsas next to mptspi), which the VM initramfs carries, and OVMF and
 * SeaBIOS both boot from it. The LSI 53C895A would need sym53c8xx, and edk2 builds OVMF without its driver.
 */
export const SCSI_MODELS: Partial<Record<Controller, ScsiModel>> = {
  lsilogic: { qemu: 'mptsas1068', libvirt: 'lsisas1068', maxUnit: 8 },
  buslogic: { qemu: 'mptsas1068', libvirt: 'lsisas1068', maxUnit: 8 },
  lsisas1068: { qemu: 'mptsas1068', libvirt: 'lsisas1068', maxUnit: 8 },
  pvscsi: { qemu: 'pvscsi', libvirt: 'vmpvscsi', maxUnit: 15 },
};

/** An AHCI controller has six ports. */
export const AHCI_MAX_UNIT = 5;

/** q35 has no IDE controller at all (its disks are AHCI), so a layout with IDE devices gets the i440FX machine. */
export function qemuMachine(layout: VmLayout): 'pc' | 'q35' {
  return vmControllers(layout).some((g) => g.bus === 'ide') ? 'pc' : 'q35';
}

// ---------------------------------------------------------------------------------------------
// qemu-system-x86_64

/** One option and its value, kept together so run.sh can print one per line. */
type QemuOption = [flag: string, value?: string];

/**
 * The command line as an argument array, program first. Hardware only: no -serial, -display or
 * -monitor, so that run.sh and `vmgen verify` each add their own.
 */
export function qemuArgs(spec: ResolvedSpec, layout: VmLayout, opts: QemuOptions): [string, ...string[]] {
  return [QEMU_BINARY, ...qemuOptions(spec, layout, opts).flatMap(([flag, value]) => (value === undefined ? [flag] : [flag, value]))];
}

function qemuOptions(spec: ResolvedSpec, layout: VmLayout, opts: QemuOptions): QemuOption[] {
  return [
    ['-name', optValue(spec.name)],
    ['-machine', qemuMachine(layout)],
    // KVM where /dev/kvm is usable, else TCG; "max" is the richest CPU either can give.
    ['-accel', 'kvm'], ['-accel', 'tcg'],
    ['-cpu', 'max'],
    ['-smp', String(spec.cpus)],
    ['-m', `${spec.ramMiB}M`],
    // No default NIC, CD drive, serial port or monitor: every device below is the layout's.
    ['-nodefaults'],
    ['-device', 'VGA'],
    ...firmwareOptions(layout, opts),
    ...qemuControllers(layout).flatMap((g) => controllerOptions(g, layout, opts)),
    ...spec.nics.flatMap((nic) => nicOptions(nic, spec.os)),
  ];
}

function firmwareOptions(layout: VmLayout, opts: QemuOptions): QemuOption[] {
  if (layout.firmware === 'bios') return [];
  if (opts.ovmf === undefined) throw new Error('a UEFI guest needs opts.ovmf: the OVMF code and a writable copy of its variables');
  return [
    ['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${optValue(opts.ovmf.code)}`],
    ['-drive', `if=pflash,format=raw,unit=1,file=${optValue(opts.ovmf.vars)}`],
  ];
}

function controllerOptions(group: ControllerGroup, layout: VmLayout, opts: QemuOptions): QemuOption[] {
  const own = controllerDevice(group);
  const devices = group.devices.flatMap((d) => [...driveOptions(d, layout, opts), ['-device', deviceOf(d, group, layout)] as QemuOption]);
  return [...(own === undefined ? [] : [['-device', own] as QemuOption]), ...devices];
}

/** The controller's own -device; the i440FX's two IDE channels are built in. */
function controllerDevice(group: ControllerGroup): string | undefined {
  const id = `${group.bus}${group.index}`;
  if (group.bus === 'scsi') return `${scsiModel(group).qemu},id=${id}`;
  if (group.bus === 'sata') return `ahci,id=${id}`;
  if (group.bus === 'nvme') return `nvme,id=${id},serial=vmgen-${id}`;
  return undefined;
}

function driveOptions(device: AttachedDevice, layout: VmLayout, opts: QemuOptions): QemuOption[] {
  const id = driveId(device, layout);
  if (device.type === 'disk') {
    const file = optValue(diskFileOf(device.disk, opts.diskPaths, 'disk path'));
    return [['-drive', `if=none,id=${id},file=${file},format=qcow2,discard=unmap`]];
  }
  const iso = device.cd.connected ? isoOf(device.cd, opts.isoPaths) : undefined;
  return [['-drive', iso === undefined ? `if=none,id=${id},media=cdrom` : `if=none,id=${id},media=cdrom,readonly=on,file=${optValue(iso)},format=raw`]];
}

function deviceOf(device: AttachedDevice, group: ControllerGroup, layout: VmLayout): string {
  const drive = `drive=${driveId(device, layout)}`;
  const boot = device.type === 'disk' && device.disk.boot ? ',bootindex=0' : '';
  const controller = `${group.bus}${group.index}`;
  const cd = device.type === 'cdrom';
  if (group.bus === 'scsi') return `${cd ? 'scsi-cd' : 'scsi-hd'},bus=${controller}.0,scsi-id=${device.unit},${drive}${boot}`;
  if (group.bus === 'sata') return `${cd ? 'ide-cd' : 'ide-hd'},bus=${controller}.${device.unit},${drive}${boot}`;
  // One NVMe controller per bus, one namespace per unit: nvme0:1 is the guest's nvme0n2.
  if (group.bus === 'nvme') return `nvme-ns,bus=${controller},nsid=${device.unit + 1},${drive}${boot}`;
  return `${cd ? 'ide-cd' : 'ide-hd'},bus=ide.${group.index},unit=${device.unit},${drive}${boot}`;
}

function driveId(device: AttachedDevice, layout: VmLayout): string {
  return device.type === 'disk' ? `disk${layout.disks.indexOf(device.disk)}` : `cd${layout.cdDrives.indexOf(device.cd)}`;
}

function scsiModel(group: ControllerGroup): ScsiModel {
  const model = SCSI_MODELS[group.model];
  if (model === undefined) throw new Error(`${group.bus}${group.index}: ${group.model} is not a SCSI controller`);
  return model;
}

/** The layout's controllers, each device checked against the units QEMU's model of it has. */
function qemuControllers(layout: VmLayout): ControllerGroup[] {
  const groups = vmControllers(layout);
  for (const group of groups) {
    const limit = unitLimit(group);
    const over = limit && group.devices.find((d) => d.unit > limit.max);
    if (over) throw new Error(`${group.bus}${group.index}:${over.unit}: QEMU's ${limit.model} controller has units 0 to ${limit.max} only`);
  }
  return groups;
}

/** IDE positions never exceed 1:1 and NVMe has namespaces to spare; SCSI and AHCI models are smaller than VMware's. */
function unitLimit(group: ControllerGroup): { max: number; model: string } | undefined {
  if (group.bus === 'scsi') return { max: scsiModel(group).maxUnit, model: scsiModel(group).qemu };
  if (group.bus === 'sata') return { max: AHCI_MAX_UNIT, model: 'AHCI' };
  return undefined;
}

/**
 * NAT is QEMU's user network. A bridged NIC joins br0 through qemu-bridge-helper, which needs
 * "allow br0" in /etc/qemu/bridge.conf. Host-only is the user network with restrict=on (the guest
 * reaches no one but forwarded ports), the nearest thing without root. A disconnected NIC sits on a
 * hub of its own: QEMU cannot start a NIC with its link down (only the monitor's set_link can).
 */
function netdev(nic: ResolvedNic): string {
  const id = `net${nic.index}`;
  if (!nic.connected) return `hubport,id=${id},hubid=${nic.index}`;
  if (nic.link === 'bridged') return `bridge,id=${id},br=${HOST_BRIDGE}`;
  return nic.link === 'hostonly' ? `user,id=${id},restrict=on` : `user,id=${id}`;
}

function nicOptions(nic: ResolvedNic, os: OsEntry): QemuOption[] {
  const mac = nic.mac === undefined ? '' : `,mac=${nic.mac}`;
  return [['-netdev', netdev(nic)], ['-device', `${nicModel(os).qemu},netdev=net${nic.index}${mac}`]];
}

/** virtio-net for Linux (in every kernel); Windows has no virtio driver out of the box but has e1000e's from Windows 8 on. */
function nicModel(os: OsEntry): { qemu: string; libvirt: string } {
  return os.family === 'windows' ? { qemu: 'e1000e', libvirt: 'e1000e' } : { qemu: 'virtio-net-pci', libvirt: 'virtio' };
}

/** QEMU splits option values at commas; a doubled comma is a literal one. */
function optValue(s: string): string {
  if (/[\u0000-\u001f]/.test(s)) throw new Error(`${JSON.stringify(s)} contains a control character`);
  return s.replace(/,/g, ',,');
}

// ---------------------------------------------------------------------------------------------
// run.sh

export function renderRunSh(spec: ResolvedSpec, layout: VmLayout, opts: QemuOptions): string {
  const options: QemuOption[] = [...qemuOptions(spec, layout, opts), ['-serial', 'mon:stdio'], ['-display', 'none']];
  const lines = options.map(([flag, value]) => `  ${value === undefined ? flag : `${flag} ${shellQuote(value)}`} \\`);
  return [
    '#!/bin/bash',
    `# ${oneLine(spec.name)} (${oneLine(spec.os.label)}) on QEMU, generated by vmgen.`,
    '# Headless: this terminal is the serial console. Ctrl-A X quits QEMU, Ctrl-A C switches to its monitor.',
    '# Runs with KVM where /dev/kvm is usable, else emulated (TCG, slower). Extra arguments go to QEMU,',
    '# for example -display gtk for a window.',
    ...runNotes(spec, layout, opts),
    'set -euo pipefail',
    '# Relative paths below are relative to this script.',
    'cd "$(dirname "$0")"',
    `exec ${QEMU_BINARY} \\`,
    ...lines,
    '  "$@"',
    '',
  ].join('\n');
}

function runNotes(spec: ResolvedSpec, layout: VmLayout, opts: QemuOptions): string[] {
  const notes: string[] = [];
  if (layout.firmware === 'efi') notes.push('# UEFI: the variables file is this machine\'s own and must stay writable.');
  for (const nic of spec.nics) {
    if (!nic.connected) notes.push(`# ${nic.name}: disconnected, on a hub of its own (QEMU warns that the hub reaches no network).`);
    else if (nic.link === 'bridged') notes.push(`# ${nic.name}: bridged to ${HOST_BRIDGE} by qemu-bridge-helper; /etc/qemu/bridge.conf needs "allow ${HOST_BRIDGE}".`);
    else if (nic.link === 'hostonly') notes.push(`# ${nic.name}: host-only, as a user network the guest cannot leave (restrict=on).`);
  }
  layout.cdDrives.forEach((cd, i) => {
    const iso = isoOf(cd, opts.isoPaths);
    if (!cd.connected && iso !== undefined) notes.push(`# ${cd.name}: disconnected, so empty; insert its ISO from the monitor with: change cd${i} ${iso}`);
  });
  return notes.map(oneLine);
}

/** Bare when nothing in it is special to bash, else single-quoted. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// libvirt domain XML

const ARCH: Record<OsEntry['arch'], string> = { amd64: 'x86_64', i386: 'i686' };

export function renderLibvirtXml(spec: ResolvedSpec, layout: VmLayout, opts: QemuOptions): string {
  const groups = qemuControllers(layout);
  const names = new TargetNames();
  return [
    `<!-- ${comment(spec.name)}: ${comment(spec.os.label)}, generated by vmgen. Define it with: virsh define FILE`,
    '     type="kvm" needs /dev/kvm; type="qemu" runs the same machine emulated. No <cpu>: host-passthrough',
    '     would be faster under KVM but cannot be emulated. -->',
    '<domain type="kvm">',
    `  <name>${esc(spec.name)}</name>`,
    `  <description>${esc(`${spec.os.label}, generated by vmgen`)}</description>`,
    `  <memory unit="MiB">${spec.ramMiB}</memory>`,
    `  <vcpu>${spec.cpus}</vcpu>`,
    ...osXml(spec, layout, opts),
    '  <features>',
    '    <acpi/>',
    '    <apic/>',
    '  </features>',
    '  <clock offset="utc"/>',
    '  <devices>',
    ...groups.flatMap((g) => controllerXml(g)),
    ...groups.flatMap((g) => g.devices.flatMap((d) => diskXml(d, g, opts, names))),
    ...spec.nics.flatMap((nic) => interfaceXml(nic, spec.os)),
    '    <serial type="pty">',
    '      <target port="0"/>',
    '    </serial>',
    '    <console type="pty">',
    '      <target type="serial" port="0"/>',
    '    </console>',
    '    <graphics type="vnc" autoport="yes">',
    '      <listen type="address" address="127.0.0.1"/>',
    '    </graphics>',
    '    <video>',
    '      <model type="vga"/>',
    '    </video>',
    '  </devices>',
    '</domain>',
    '',
  ].join('\n');
}

function osXml(spec: ResolvedSpec, layout: VmLayout, opts: QemuOptions): string[] {
  const type = `    <type arch="${ARCH[spec.os.arch]}" machine="${qemuMachine(layout)}">hvm</type>`;
  if (layout.firmware === 'bios') return ['  <os>', type, '  </os>'];
  // Without paths libvirt picks an OVMF build itself (firmware autoselection, libvirt 5.2 and later).
  if (opts.ovmf === undefined) return ['  <os firmware="efi">', type, '  </os>'];
  return [
    '  <os>',
    type,
    `    <loader readonly="yes" type="pflash">${esc(absolute(opts.ovmf.code, 'OVMF code'))}</loader>`,
    `    <nvram>${esc(absolute(opts.ovmf.vars, 'OVMF variables'))}</nvram>`,
    '  </os>',
  ];
}

/** IDE's controller is part of the machine, and NVMe disks become virtio-blk, which needs none. */
function controllerXml(group: ControllerGroup): string[] {
  if (group.bus === 'scsi') return [`    <controller type="scsi" index="${group.index}" model="${scsiModel(group).libvirt}"/>`];
  if (group.bus === 'sata') return [`    <controller type="sata" index="${group.index}"/>`];
  return [];
}

function diskXml(device: AttachedDevice, group: ControllerGroup, opts: QemuOptions, names: TargetNames): string[] {
  const cd = device.type === 'cdrom';
  const bus = group.bus === 'nvme' ? 'virtio' : group.bus;
  const source = cd ? (device.cd.connected ? isoOf(device.cd, opts.isoPaths) : undefined) : diskFileOf(device.disk, opts.diskPaths, 'disk path');
  const lines = [
    ...(group.bus === 'nvme' ? [`    <!-- ${comment(deviceName(device))}: NVMe in the layout; libvirt 9 has no NVMe disk bus, so virtio-blk. -->`] : []),
    `    <disk type="file" device="${cd ? 'cdrom' : 'disk'}">`,
    `      <driver name="qemu" type="${cd ? 'raw' : 'qcow2'}"${cd ? '' : ' discard="unmap"'}/>`,
    ...(source === undefined ? [] : [`      <source file="${esc(absolute(source, deviceName(device)))}"/>`]),
    `      <target dev="${names.next(group, device.unit)}" bus="${bus}"/>`,
    ...(cd ? ['      <readonly/>'] : []),
    ...(device.type === 'disk' && device.disk.boot ? ['      <boot order="1"/>'] : []),
    ...addressXml(group, device.unit),
    '    </disk>',
  ];
  return lines;
}

/** Where the device sits, so libvirt does not derive it from the target name. */
function addressXml(group: ControllerGroup, unit: number): string[] {
  if (group.bus === 'nvme') return [];
  // IDE: one controller with two buses (primary, secondary); SCSI and SATA: one bus per controller.
  const [controller, bus] = group.bus === 'ide' ? [0, group.index] : [group.index, 0];
  return [`      <address type="drive" controller="${controller}" bus="${bus}" target="0" unit="${unit}"/>`];
}

/** Target device names: hdX by IDE position, sdX for SCSI and SATA in order, vdX for virtio. */
class TargetNames {
  private readonly used = new Map<string, number>();

  next(group: ControllerGroup, unit: number): string {
    if (group.bus === 'ide') return `hd${letters(group.index * 2 + unit)}`;
    const prefix = group.bus === 'nvme' ? 'vd' : 'sd';
    const n = this.used.get(prefix) ?? 0;
    this.used.set(prefix, n + 1);
    return `${prefix}${letters(n)}`;
  }
}

/** 0 → a, 25 → z, 26 → aa: the kernel's disk naming. */
function letters(n: number): string {
  return (n >= 26 ? letters(Math.floor(n / 26) - 1) : '') + String.fromCharCode(97 + (n % 26));
}

function interfaceXml(nic: ResolvedNic, os: OsEntry): string[] {
  const source = nic.link === 'bridged'
    ? { type: 'bridge', xml: `<source bridge="${HOST_BRIDGE}"/>` }
    : { type: 'network', xml: `<source network="${nic.link === 'nat' ? LIBVIRT_NAT_NETWORK : LIBVIRT_HOSTONLY_NETWORK}"/>` };
  return [
    `    <!-- ${comment(nic.name)}: ${nic.link}${nic.connected ? '' : ', link down at start'} -->`,
    `    <interface type="${source.type}">`,
    ...(nic.mac === undefined ? [] : [`      <mac address="${esc(nic.mac)}"/>`]),
    `      ${source.xml}`,
    `      <model type="${nicModel(os).libvirt}"/>`,
    ...(nic.connected ? [] : ['      <link state="down"/>']),
    '    </interface>',
  ];
}

/**
 * The isolated network host-only NICs join: the host gets 192.168.56.1 (VirtualBox's host-only
 * default, so a config moves between the two unchanged) and hands out addresses by DHCP; without a
 * <forward> element libvirt routes nothing beyond the host. Install with
 * `virsh net-define FILE && virsh net-start vmgen-hostonly`.
 */
export function renderLibvirtHostonlyNetwork(): string {
  return [
    '<network>',
    `  <name>${LIBVIRT_HOSTONLY_NETWORK}</name>`,
    '  <bridge name="virbr-vmgen" stp="on" delay="0"/>',
    '  <ip address="192.168.56.1" netmask="255.255.255.0">',
    '    <dhcp>',
    '      <range start="192.168.56.101" end="192.168.56.254"/>',
    '    </dhcp>',
    '  </ip>',
    '</network>',
    '',
  ].join('\n');
}

function deviceName(device: AttachedDevice): string {
  return device.type === 'disk' ? device.disk.name : device.cd.name;
}

function absolute(path: string, what: string): string {
  if (!path.startsWith('/')) throw new Error(`${what}: libvirt needs an absolute path, not ${JSON.stringify(path)}`);
  return path;
}

function esc(s: string): string {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s)) throw new Error(`${JSON.stringify(s)} contains a character XML cannot hold`);
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** "--" may not appear inside an XML comment. */
function comment(s: string): string {
  return oneLine(s).replace(/-{2,}/g, '-');
}

function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ');
}
