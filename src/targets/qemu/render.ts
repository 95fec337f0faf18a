import type { GuestNic, OsEntry } from '../../catalog/schema.js';
import type { ResolvedNic, ResolvedSpec } from '../../config/resolve.js';
import type { VmLayout } from '../../disks/layout.js';
import { platformFor, type PlatformSecurity } from '../../families/platform-security.js';
import { diskFileOf, isoOf, vmControllers, type AttachedDevice, type ControllerGroup } from '../vm/controllers.js';
import { AHCI_MAX_UNIT, nvmeOnSata, qemuScsiModel, type ScsiModel } from './controllers.js';
import { comment, esc } from '../xml-text.js';

/** Where libvirt keeps disk images by default; the domain XML names disks there (libvirt needs absolute paths). */
export const LIBVIRT_IMAGES = '/var/lib/libvirt/images';

/**
 * QEMU/KVM: a libvirt domain XML (`virsh define`) and a run.sh with the plain qemu-system-x86_64
 * command line, both from the same layout. Pure: spec, layout and file paths in, text out.
 *
 * The guest gets the controllers its layout names, not virtio everywhere: the same disk image then
 * boots under VMware, VirtualBox and QEMU with the same drivers (Linux has all of them). Where QEMU
 * lacks VMware's model (LSI Logic, BusLogic) the LSI SAS1068 stands in; a UEFI Linux guest's SCSI
 * disks are on virtio-scsi, the one SCSI controller OVMF boots from (see UEFI_SCSI), and libvirt 9 (Debian 12)
 * has no NVMe disk bus, so in the domain XML NVMe disks are virtio-blk (SATA for Windows, which
 * has no virtio driver of its own) while run.sh gives them a real NVMe controller. Disk images
 * are qcow2.
 *
 * A guest that requires a TPM 2.0 and Secure Boot (Windows 11) gets both, as libvirt's domain
 * format describes them (https://libvirt.org/formatdomain.html, "TPM device", "Operating system
 * booting": <loader secure='yes'> needs <smm state='on'/> and q35) and as QEMU's docs run them
 * (https://www.qemu.org/docs/master/specs/tpm.html, "The QEMU TPM emulator device"): swtpm
 * behind -tpmdev emulator, and the secure-boot build of OVMF with its pflash locked to SMM.
 */
export const QEMU_BINARY = 'qemu-system-x86_64';

export interface QemuOptions {
  /** Disk image (qcow2) per layout disk name. Absolute for libvirt; run.sh resolves relative ones from its own folder. */
  diskPaths: Record<string, string>;
  /** ISO per CD drive name; a drive without one falls back to the layout's path, else stays empty. */
  isoPaths: Record<string, string>;
  /**
   * OVMF firmware for UEFI guests: the read-only code and this machine's own writable copy of the
   * variables; for libvirt, the file it copies that copy from when it does not exist yet.
   */
  ovmf?: { code: string; vars: string; varsTemplate?: string };
  /** qemuArgs of a machine with a TPM: the control socket of the swtpm that emulates it (run.sh starts its own). */
  tpmSocket?: string;
  /** qemuArgs: one accelerator; without, KVM where QEMU can open it, else TCG (run.sh probes for itself). */
  accel?: 'kvm' | 'tcg';
  /**
   * NICs wired into a network of their own, by NIC name (a lab's): in place of the NIC's link, the
   * domain XML names the libvirt network and run.sh puts the NIC on a tap device on its bridge.
   */
  wiring?: Readonly<Record<string, QemuNicWiring>>;
}

/** Where a wired NIC goes: libvirt's network by name, and for run.sh a tap device on a Linux bridge. */
export interface QemuNicWiring {
  libvirtNetwork: string;
  bridge: string;
  /** The tap device run.sh makes for the NIC (at most 15 characters, an interface name). */
  tap: string;
}

/** What this target can give a guest that needs it (the commander's platformSecurity). */
export const QEMU_PLATFORM_SECURITY: PlatformSecurity = Object.freeze({ tpm2: true, secureBoot: true });

/** The TPM and Secure Boot this machine gets: what its OS needs (Windows 11), Secure Boot under UEFI only. */
export function qemuPlatform(spec: ResolvedSpec, layout: VmLayout): PlatformSecurity {
  return platformFor(spec.os, QEMU_PLATFORM_SECURITY, layout);
}

/** libvirt network names per link. NAT uses libvirt's own "default" network; see renderLibvirtHostonlyNetwork. */
export const LIBVIRT_NAT_NETWORK = 'default';
export const LIBVIRT_HOSTONLY_NETWORK = 'vmgen-hostonly';
/** The usual name of a bridge over the host's NIC (as in the LXC target). */
export const HOST_BRIDGE = 'br0';



/**
 * q35 has no IDE controller at all (its disks are AHCI), so a layout with IDE devices gets the
 * i440FX machine, unless Secure Boot needs q35 (SMM): then the IDE positions become ports of q35's
 * own AHCI controller (see ideOnAhci).
 */
export function qemuMachine(spec: ResolvedSpec, layout: VmLayout): 'pc' | 'q35' {
  if (qemuPlatform(spec, layout).secureBoot) return 'q35';
  return hasIde(layout) ? 'pc' : 'q35';
}

function hasIde(layout: VmLayout): boolean {
  return vmControllers(layout).some((g) => g.bus === 'ide');
}

/** The machine's board and what it carries, worked out once per rendering. */
interface Machine {
  type: 'pc' | 'q35';
  platform: PlatformSecurity;
  /** q35 with IDE positions in the layout: IDE bus B, unit U is port B*2+U of the built-in AHCI (ide.0 to ide.3). */
  ideOnAhci: boolean;
  /**
   * libvirt: NVMe disks on SATA instead of virtio-blk. Windows Setup finds no disk on virtio-blk
   * (its driver is Red Hat's virtio-win, not in Windows), and has AHCI's since Vista.
   */
  nvmeOnSata: boolean;
  /** How many SATA controllers the layout itself has. */
  sataGroups: number;
  /** What chooses its SCSI controllers (qemuScsiModel): the guest and its firmware. */
  os: OsEntry;
  firmware: VmLayout['firmware'];
}


function machineOf(spec: ResolvedSpec, layout: VmLayout): Machine {
  const type = qemuMachine(spec, layout);
  return {
    type, platform: qemuPlatform(spec, layout), ideOnAhci: type === 'q35' && hasIde(layout), nvmeOnSata: nvmeOnSata(spec.os),
    sataGroups: vmControllers(layout).filter((g) => g.bus === 'sata').length, os: spec.os, firmware: layout.firmware,
  };
}

// ---------------------------------------------------------------------------------------------
// qemu-system-x86_64

/**
 * One option and its value, kept together so run.sh can print one per line; `sh` is how run.sh
 * writes a value it only knows when it runs (the accelerator, the TPM socket).
 */
type QemuOption = [flag: string, value?: string, sh?: string];

/** run.sh's shell variables, for the values it works out when it runs. */
const SH_ACCEL = '"$accel"';
// QEMU's comma doubling done by bash, so a temporary directory with a comma stays one value.
const SH_TPM_CHARDEV = '"socket,id=chrtpm,path=${tpm_socket//,/,,}"';

/**
 * The command line as an argument array, program first. Hardware only: no -serial, -display or
 * -monitor, so that run.sh and `vmgen verify` each add their own.
 */
export function qemuArgs(spec: ResolvedSpec, layout: VmLayout, opts: QemuOptions): [string, ...string[]] {
  return [QEMU_BINARY, ...qemuOptions(spec, layout, opts).flatMap(([flag, value]) => (value === undefined ? [flag] : [flag, value]))];
}

function qemuOptions(spec: ResolvedSpec, layout: VmLayout, opts: QemuOptions, runSh = false): QemuOption[] {
  const machine = machineOf(spec, layout);
  return [
    ['-name', optValue(spec.name)],
    // OVMF's secure-boot build is built with SMM_REQUIRE and does not start without SMM.
    ['-machine', machine.platform.secureBoot ? `${machine.type},smm=on` : machine.type],
    ...accelOptions(opts, runSh),
    // "max" is the richest CPU either accelerator can give.
    ['-cpu', 'max'],
    ['-smp', String(spec.cpus)],
    ['-m', `${spec.ramMiB}M`],
    // No default NIC, CD drive, serial port or monitor: every device below is the layout's.
    ['-nodefaults'],
    ['-device', 'VGA'],
    ...firmwareOptions(layout, opts, machine),
    ...tpmOptions(opts, machine, runSh),
    ...qemuControllers(layout, machine).flatMap((g) => controllerOptions(g, layout, opts, machine)),
    ...spec.nics.flatMap((nic) => nicOptions(nic, spec.os, opts)),
  ];
}

function accelOptions(opts: QemuOptions, runSh: boolean): QemuOption[] {
  if (runSh) return [['-accel', 'tcg', SH_ACCEL]]; // run.sh's probe decides
  // Without a choice QEMU tries them in order; it falls back only when KVM fails to open, not
  // when KVM opens and then cannot run the guest (run.sh's probe is for that).
  return opts.accel === undefined ? [['-accel', 'kvm'], ['-accel', 'tcg']] : [['-accel', opts.accel]];
}

function firmwareOptions(layout: VmLayout, opts: QemuOptions, machine: Machine): QemuOption[] {
  if (layout.firmware === 'bios') return [];
  if (opts.ovmf === undefined) throw new Error('a UEFI guest needs opts.ovmf: the OVMF code and a writable copy of its variables');
  return [
    // Only SMM may write the variable store, or the guest's OS could change the Secure Boot keys
    // past the firmware (edk2's OvmfPkg/README, "SMM support").
    ...(machine.platform.secureBoot ? [['-global', 'driver=cfi.pflash01,property=secure,value=on'] as QemuOption] : []),
    ['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${optValue(opts.ovmf.code)}`],
    ['-drive', `if=pflash,format=raw,unit=1,file=${optValue(opts.ovmf.vars)}`],
  ];
}

function tpmOptions(opts: QemuOptions, machine: Machine, runSh: boolean): QemuOption[] {
  if (!machine.platform.tpm2) return [];
  if (!runSh && opts.tpmSocket === undefined) throw new Error('a machine with a TPM needs opts.tpmSocket: the control socket of its swtpm');
  const chardev: QemuOption = runSh ? ['-chardev', 'socket,id=chrtpm', SH_TPM_CHARDEV] : ['-chardev', `socket,id=chrtpm,path=${optValue(opts.tpmSocket!)}`];
  // CRB, the TPM 2.0 interface Windows expects of current machines; TIS is the TPM 1.2 era's.
  return [chardev, ['-tpmdev', 'emulator,id=tpm0,chardev=chrtpm'], ['-device', 'tpm-crb,tpmdev=tpm0']];
}

function controllerOptions(group: ControllerGroup, layout: VmLayout, opts: QemuOptions, machine: Machine): QemuOption[] {
  const own = controllerDevice(group, machine);
  const devices = group.devices.flatMap((d) => [...driveOptions(d, layout, opts), ['-device', deviceOf(d, group, layout, machine)] as QemuOption]);
  return [...(own === undefined ? [] : [['-device', own] as QemuOption]), ...devices];
}

/** The controller's own -device; the i440FX's two IDE channels are built in. */
function controllerDevice(group: ControllerGroup, machine: Machine): string | undefined {
  const id = `${group.bus}${group.index}`;
  if (group.bus === 'scsi') return `${scsiModel(group, machine).qemu},id=${id}`;
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

function deviceOf(device: AttachedDevice, group: ControllerGroup, layout: VmLayout, machine: Machine): string {
  const drive = `drive=${driveId(device, layout)}`;
  const boot = device.type === 'disk' && device.disk.boot ? ',bootindex=0' : '';
  const controller = `${group.bus}${group.index}`;
  const cd = device.type === 'cdrom';
  if (group.bus === 'scsi') return `${cd ? 'scsi-cd' : 'scsi-hd'},bus=${controller}.0,scsi-id=${device.unit},${drive}${boot}`;
  if (group.bus === 'sata') return `${cd ? 'ide-cd' : 'ide-hd'},bus=${controller}.${device.unit},${drive}${boot}`;
  // One NVMe controller per bus, one namespace per unit: nvme0:1 is the guest's nvme0n2.
  if (group.bus === 'nvme') return `nvme-ns,bus=${controller},nsid=${device.unit + 1},${drive}${boot}`;
  if (machine.ideOnAhci) return `${cd ? 'ide-cd' : 'ide-hd'},bus=ide.${ahciPort(group, device.unit)},${drive}${boot}`;
  return `${cd ? 'ide-cd' : 'ide-hd'},bus=ide.${group.index},unit=${device.unit},${drive}${boot}`;
}

/** The port of q35's AHCI controller an IDE position takes: primary master 0 … secondary slave 3. */
function ahciPort(group: ControllerGroup, unit: number): number {
  return group.index * 2 + unit;
}

function driveId(device: AttachedDevice, layout: VmLayout): string {
  return device.type === 'disk' ? `disk${layout.disks.indexOf(device.disk)}` : `cd${layout.cdDrives.indexOf(device.cd)}`;
}

function scsiModel(group: ControllerGroup, machine: Machine): ScsiModel {
  const model = qemuScsiModel(group.model, machine.os, machine.firmware);
  if (model === undefined) throw new Error(`${group.bus}${group.index}: ${group.model} is not a SCSI controller`);
  return model;
}

/** The layout's controllers, each device checked against the units QEMU's model of it has. */
function qemuControllers(layout: VmLayout, machine: Machine): ControllerGroup[] {
  const groups = vmControllers(layout);
  for (const group of groups) {
    const limit = unitLimit(group, machine);
    const over = limit && group.devices.find((d) => d.unit > limit.max);
    if (over) throw new Error(`${group.bus}${group.index}:${over.unit}: QEMU's ${limit.model} controller has units 0 to ${limit.max} only`);
  }
  return groups;
}

/** IDE positions never exceed 1:1 and NVMe has namespaces to spare; SCSI and AHCI models are smaller than VMware's. */
function unitLimit(group: ControllerGroup, machine: Machine): { max: number; model: string } | undefined {
  if (group.bus === 'scsi') return { max: scsiModel(group, machine).maxUnit, model: scsiModel(group, machine).qemu };
  if (group.bus === 'sata') return { max: AHCI_MAX_UNIT, model: 'AHCI' };
  return undefined;
}

/**
 * NAT is QEMU's user network. A bridged NIC joins br0 through qemu-bridge-helper, which needs
 * "allow br0" in /etc/qemu/bridge.conf. Host-only is the user network with restrict=on (the guest
 * reaches no one but forwarded ports), the nearest thing without root. A disconnected NIC sits on a
 * hub of its own: QEMU cannot start a NIC with its link down (only the monitor's set_link can).
 */
function netdev(nic: ResolvedNic, wired: QemuNicWiring | undefined): string {
  const id = `net${nic.index}`;
  if (!nic.connected) return `hubport,id=${id},hubid=${nic.index}`;
  // run.sh makes the tap and puts it on the bridge itself, so QEMU runs no ifup script.
  if (wired !== undefined) return `tap,id=${id},ifname=${interfaceName(wired.tap)},script=no,downscript=no`;
  if (nic.link === 'bridged') return `bridge,id=${id},br=${HOST_BRIDGE}`;
  return nic.link === 'hostonly' ? `user,id=${id},restrict=on` : `user,id=${id}`;
}

function nicOptions(nic: ResolvedNic, os: OsEntry, opts: QemuOptions): QemuOption[] {
  const mac = nic.mac === undefined ? '' : `,mac=${nic.mac}`;
  return [['-netdev', netdev(nic, opts.wiring?.[nic.name])], ['-device', `${nicModel(os).qemu},netdev=net${nic.index}${mac}`]];
}

/** Tap and bridge names reach a shell and QEMU's option parser: only what an interface name needs. */
function interfaceName(name: string): string {
  if (!/^[a-zA-Z0-9_-]{1,15}$/.test(name)) throw new Error(`${JSON.stringify(name)} is not an interface name (1 to 15 of a-z, 0-9, _ and -)`);
  return name;
}

/**
 * The card the guest drives out of the box (OsEntry.nic): virtio-net where it has the driver (every
 * Linux kernel); Windows has none, so e1000e from Windows 8 on and e1000 for XP and 7, which have
 * no e1000e driver either. libvirt names the models as QEMU's -device does, except virtio.
 */
const QEMU_NIC: Readonly<Record<GuestNic, { qemu: string; libvirt: string }>> = {
  e1000: { qemu: 'e1000', libvirt: 'e1000' },
  e1000e: { qemu: 'e1000e', libvirt: 'e1000e' },
  paravirtual: { qemu: 'virtio-net-pci', libvirt: 'virtio' },
};

function nicModel(os: OsEntry): { qemu: string; libvirt: string } {
  return QEMU_NIC[os.nic];
}

/** QEMU splits option values at commas; a doubled comma is a literal one. */
function optValue(s: string): string {
  if (/[\u0000-\u001f]/.test(s)) throw new Error(`${JSON.stringify(s)} contains a control character`);
  return s.replace(/,/g, ',,');
}

// ---------------------------------------------------------------------------------------------
// run.sh

export function renderRunSh(spec: ResolvedSpec, layout: VmLayout, opts: QemuOptions): string {
  const options: QemuOption[] = [...qemuOptions(spec, layout, opts, true), ['-serial', 'mon:stdio'], ['-display', 'none']];
  const lines = options.map(([flag, value, sh]) => `  ${value === undefined ? flag : `${flag} ${sh ?? shellQuote(value)}`} \\`);
  const tpm = qemuPlatform(spec, layout).tpm2;
  const taps = tapLines(spec, opts);
  return [
    '#!/bin/bash',
    `# ${oneLine(spec.name)} (${oneLine(spec.os.label)}) on QEMU, generated by vmgen.`,
    '# Headless: this terminal is the serial console. Ctrl-A X quits QEMU, Ctrl-A C switches to its monitor.',
    '# Runs with KVM where it works, else emulated (TCG, slower). Extra arguments go to QEMU,',
    '# for example -display gtk for a window.',
    ...runNotes(spec, layout, opts),
    'set -euo pipefail',
    '# Relative paths below are relative to this script.',
    'cd "$(dirname "$0")"',
    '',
    ...ACCEL_PROBE,
    ...taps.lines,
    ...(tpm ? swtpmLines(taps.cleanup) : []),
    '',
    // With a TPM or taps the script stays, so its EXIT trap stops swtpm and removes what it made.
    `${tpm || taps.lines.length > 0 ? '' : 'exec '}${QEMU_BINARY} \\`,
    ...lines,
    '  "$@"',
    '',
  ].join('\n');
}

/**
 * KVM only where it runs guest code: /dev/kvm can exist where KVM does not work (a VM without
 * nested virtualization), and QEMU then hangs or aborts on the first instruction instead of falling
 * back to TCG. So run.sh tries (`vmgen verify` reads the device and the CPU flags; a try also
 * catches a hypervisor that advertises VT-x it cannot give): a 64 KiB firmware whose
 * reset vector (its last 16 bytes, real mode) is `mov al,0x2a; out 0xf4,al; hlt; jmp $-1`. Written
 * to isa-debug-exit at port 0xf4, it ends QEMU with exit status (0x2a << 1) | 1 = 85, within
 * milliseconds when KVM works; a hang ends at the 5 s timeout. QEMU loads -bios images of a multiple
 * of 64 KiB and maps their end below 4 GiB, where the CPU starts (F000:FFF0).
 */
export const KVM_PROBE_STATUS = 85;
const ACCEL_PROBE: readonly string[] = [
  '# KVM only if it runs a guest: /dev/kvm can open where KVM hangs or aborts (no nested',
  `# virtualization). The probe's firmware makes QEMU exit with ${KVM_PROBE_STATUS} at its first instructions.`,
  'accel=tcg',
  'if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then',
  '  probe=$(mktemp)',
  "  { head -c 65520 /dev/zero; printf '\\260\\052\\346\\364\\364\\353\\375'; head -c 9 /dev/zero; } > \"$probe\"",
  '  status=0',
  `  timeout -k 1 5 ${QEMU_BINARY} -accel kvm -machine pc -nodefaults -display none -bios "$probe" \\`,
  '    -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null >/dev/null 2>&1 || status=$?',
  '  rm -f "$probe"',
  `  if [ "$status" -eq ${KVM_PROBE_STATUS} ]; then accel=kvm; else echo "run.sh: /dev/kvm is there but KVM does not run guests here; emulating (TCG)" >&2; fi`,
  'fi',
];

/**
 * swtpm emulates the TPM 2.0. Its state lives beside this script, as the machine's own (Windows
 * keeps BitLocker and Hello keys in it); the control socket lives in a temporary directory, since
 * a socket path holds at most 107 bytes. --terminate: swtpm ends when QEMU closes the connection.
 */
export const RUN_SH_TPM_STATE = 'tpm';
function swtpmLines(alsoOnExit: string | undefined): string[] {
  // A fixed name: swtpm splits its option values at commas and has no escape for them.
  const state = RUN_SH_TPM_STATE;
  return [
    '',
    `# The TPM 2.0 this guest requires, emulated by swtpm (Debian package swtpm); its state stays in ${state}/.`,
    `mkdir -p ${state}`,
    'tpm_dir=$(mktemp -d)',
    'tpm_socket=$tpm_dir/swtpm.sock',
    `swtpm socket --tpm2 --tpmstate dir=${state} --ctrl type=unixio,path="$tpm_socket" --terminate &`,
    'swtpm_pid=$!',
    `trap 'kill "$swtpm_pid" 2>/dev/null || true; rm -rf "$tpm_dir"${alsoOnExit === undefined ? '' : `; ${alsoOnExit}`}' EXIT`,
    'for _ in $(seq 100); do [ -S "$tpm_socket" ] && break; sleep 0.1; done',
    '[ -S "$tpm_socket" ] || { echo "run.sh: swtpm did not start" >&2; exit 1; }',
  ];
}

/**
 * Wired NICs (a lab's): a tap device per NIC on its network's bridge, which must exist (the lab's
 * topology/bridges.sh makes them); the EXIT trap removes the taps however QEMU ends. Needs root
 * (CAP_NET_ADMIN), as making any interface does.
 */
function tapLines(spec: ResolvedSpec, opts: QemuOptions): { lines: string[]; cleanup?: string } {
  const wired = spec.nics.flatMap((nic) => {
    const w = opts.wiring?.[nic.name];
    return w === undefined || !nic.connected ? [] : [{ nic, tap: interfaceName(w.tap), bridge: interfaceName(w.bridge) }];
  });
  if (wired.length === 0) return { lines: [] };
  const cleanup = 'for t in $taps; do ip link del "$t" 2>/dev/null || true; done';
  return {
    cleanup,
    lines: [
      '',
      '# Each NIC on a tap device on its network\'s bridge (the lab\'s topology/bridges.sh up makes the bridges).',
      `taps="${wired.map((w) => w.tap).join(' ')}"`,
      `trap '${cleanup}' EXIT`,
      ...wired.flatMap(({ nic, tap, bridge }) => [
        `# ${oneLine(nic.name)}`,
        `ip link show ${bridge} >/dev/null 2>&1 || { echo "run.sh: no bridge ${bridge}: run the lab's topology/bridges.sh up first" >&2; exit 1; }`,
        `ip tuntap add dev ${tap} mode tap`,
        `ip link set ${tap} master ${bridge}`,
        `ip link set ${tap} up`,
      ]),
    ],
  };
}

function runNotes(spec: ResolvedSpec, layout: VmLayout, opts: QemuOptions): string[] {
  const notes: string[] = [];
  if (layout.firmware === 'efi') notes.push('# UEFI: the variables file is this machine\'s own and must stay writable.');
  for (const nic of spec.nics) {
    const wired = opts.wiring?.[nic.name];
    if (!nic.connected) notes.push(`# ${nic.name}: disconnected, on a hub of its own (QEMU warns that the hub reaches no network).`);
    else if (wired !== undefined) notes.push(`# ${nic.name}: on network ${wired.libvirtNetwork}, bridge ${wired.bridge}.`);
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
  const machine = machineOf(spec, layout);
  const groups = qemuControllers(layout, machine);
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
    ...osXml(spec, layout, opts, machine),
    '  <features>',
    '    <acpi/>',
    '    <apic/>',
    ...(machine.platform.secureBoot ? ['    <smm state="on"/>'] : []),
    '  </features>',
    '  <clock offset="utc"/>',
    '  <devices>',
    ...groups.flatMap((g) => controllerXml(g, machine)),
    ...groups.flatMap((g) => g.devices.flatMap((d) => diskXml(d, g, opts, names, machine))),
    ...spec.nics.flatMap((nic) => interfaceXml(nic, spec.os, opts.wiring?.[nic.name])),
    // libvirt starts and keeps the swtpm itself (state under /var/lib/libvirt/swtpm).
    ...(machine.platform.tpm2 ? ['    <tpm model="tpm-crb">', '      <backend type="emulator" version="2.0"/>', '    </tpm>'] : []),
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

function osXml(spec: ResolvedSpec, layout: VmLayout, opts: QemuOptions, machine: Machine): string[] {
  const type = `    <type arch="${ARCH[spec.os.arch]}" machine="${machine.type}">hvm</type>`;
  if (layout.firmware === 'bios') return ['  <os>', type, '  </os>'];
  const secure = machine.platform.secureBoot;
  // Without paths libvirt picks an OVMF build itself (firmware autoselection, libvirt 5.2 and
  // later), one with Secure Boot and Microsoft's keys enrolled when the features ask for it (8.6).
  if (opts.ovmf === undefined) {
    return [
      '  <os firmware="efi">',
      type,
      ...(secure ? ['    <firmware>', '      <feature enabled="yes" name="secure-boot"/>', '      <feature enabled="yes" name="enrolled-keys"/>', '    </firmware>'] : []),
      '  </os>',
    ];
  }
  const template = opts.ovmf.varsTemplate === undefined ? '' : ` template="${esc(absolute(opts.ovmf.varsTemplate, 'OVMF variables template'))}"`;
  return [
    '  <os>',
    type,
    `    <loader readonly="yes"${secure ? ' secure="yes"' : ''} type="pflash">${esc(absolute(opts.ovmf.code, 'OVMF code'))}</loader>`,
    `    <nvram${template}>${esc(absolute(opts.ovmf.vars, 'OVMF variables'))}</nvram>`,
    '  </os>',
  ];
}

/** Where a layout controller's devices go in the domain XML: a libvirt bus, and for SATA which controller. */
interface LibvirtPlace {
  bus: 'ide' | 'scsi' | 'sata' | 'virtio';
  sataIndex?: number;
}

/**
 * On q35, libvirt's SATA controller 0 is the built-in one. When the IDE positions are its ports,
 * the layout's own SATA controllers come after it, and NVMe controllers on SATA after those.
 */
function libvirtPlace(group: ControllerGroup, machine: Machine): LibvirtPlace {
  const ide = machine.ideOnAhci ? 1 : 0;
  if (group.bus === 'ide') return machine.ideOnAhci ? { bus: 'sata', sataIndex: 0 } : { bus: 'ide' };
  if (group.bus === 'sata') return { bus: 'sata', sataIndex: ide + group.index };
  if (group.bus === 'nvme') return machine.nvmeOnSata ? { bus: 'sata', sataIndex: ide + machine.sataGroups + group.index } : { bus: 'virtio' };
  return { bus: 'scsi' };
}

/** IDE's controller is part of the machine, and NVMe disks as virtio-blk need none. */
function controllerXml(group: ControllerGroup, machine: Machine): string[] {
  if (group.bus === 'scsi') return [`    <controller type="scsi" index="${group.index}" model="${scsiModel(group, machine).libvirt}"/>`];
  const place = libvirtPlace(group, machine);
  // Both IDE channels share q35's one AHCI controller: declared once.
  if (place.sataIndex === undefined || (group.bus === 'ide' && group.index > 0)) return [];
  return [`    <controller type="sata" index="${place.sataIndex}"/>`];
}

function diskXml(device: AttachedDevice, group: ControllerGroup, opts: QemuOptions, names: TargetNames, machine: Machine): string[] {
  const cd = device.type === 'cdrom';
  const place = libvirtPlace(group, machine);
  const bus = place.bus;
  const source = cd ? (device.cd.connected ? isoOf(device.cd, opts.isoPaths) : undefined) : diskFileOf(device.disk, opts.diskPaths, 'disk path');
  const lines = [
    ...(group.bus === 'nvme' ? [`    <!-- ${comment(deviceName(device))}: NVMe in the layout; libvirt 9 has no NVMe disk bus, so ${bus === 'sata' ? 'SATA' : 'virtio-blk'}. -->`] : []),
    `    <disk type="file" device="${cd ? 'cdrom' : 'disk'}">`,
    `      <driver name="qemu" type="${cd ? 'raw' : 'qcow2'}"${cd ? '' : ' discard="unmap"'}/>`,
    ...(source === undefined ? [] : [`      <source file="${esc(absolute(source, deviceName(device)))}"/>`]),
    `      <target dev="${names.next(group, device.unit, machine)}" bus="${bus}"/>`,
    ...(cd ? ['      <readonly/>'] : []),
    ...(device.type === 'disk' && device.disk.boot ? ['      <boot order="1"/>'] : []),
    ...addressXml(group, device.unit, machine),
    '    </disk>',
  ];
  return lines;
}

/** Where the device sits, so libvirt does not derive it from the target name. */
function addressXml(group: ControllerGroup, unit: number, machine: Machine): string[] {
  const place = libvirtPlace(group, machine);
  if (place.bus === 'virtio') return [];
  if (place.sataIndex !== undefined) {
    const port = group.bus === 'ide' ? ahciPort(group, unit) : unit;
    if (port > AHCI_MAX_UNIT) throw new Error(`${group.bus}${group.index}:${unit}: on SATA for libvirt, past the ${AHCI_MAX_UNIT + 1} ports of an AHCI controller`);
    return [`      <address type="drive" controller="${place.sataIndex}" bus="0" target="0" unit="${port}"/>`];
  }
  // IDE: one controller with two buses (primary, secondary); SCSI: one bus per controller.
  const [controller, bus] = group.bus === 'ide' ? [0, group.index] : [group.index, 0];
  return [`      <address type="drive" controller="${controller}" bus="${bus}" target="0" unit="${unit}"/>`];
}

/** Target device names: hdX by IDE position, sdX for SCSI and SATA in order, vdX for virtio. */
class TargetNames {
  private readonly used = new Map<string, number>();

  next(group: ControllerGroup, unit: number, machine: Machine): string {
    const { bus } = libvirtPlace(group, machine);
    if (bus === 'ide') return `hd${letters(group.index * 2 + unit)}`;
    const prefix = bus === 'virtio' ? 'vd' : 'sd';
    const n = this.used.get(prefix) ?? 0;
    this.used.set(prefix, n + 1);
    return `${prefix}${letters(n)}`;
  }
}

/** 0 → a, 25 → z, 26 → aa: the kernel's disk naming. */
function letters(n: number): string {
  return (n >= 26 ? letters(Math.floor(n / 26) - 1) : '') + String.fromCharCode(97 + (n % 26));
}

function interfaceXml(nic: ResolvedNic, os: OsEntry, wired: QemuNicWiring | undefined): string[] {
  const source = wired !== undefined
    ? { type: 'network', xml: `<source network="${esc(wired.libvirtNetwork)}"/>` }
    : nic.link === 'bridged'
      ? { type: 'bridge', xml: `<source bridge="${HOST_BRIDGE}"/>` }
      : { type: 'network', xml: `<source network="${nic.link === 'nat' ? LIBVIRT_NAT_NETWORK : LIBVIRT_HOSTONLY_NETWORK}"/>` };
  return [
    `    <!-- ${comment(nic.name)}: ${wired === undefined ? nic.link : `on network ${comment(wired.libvirtNetwork)}`}${nic.connected ? '' : ', link down at start'} -->`,
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

function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ');
}
