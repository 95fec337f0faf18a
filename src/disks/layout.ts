import { CONTROLLERS, controllerModel, type Controller, type ControllerBusName, type ControllerName } from '../catalog/controllers.js';
import { filesystem, type Filesystem } from '../catalog/filesystems.js';
import type { OsEntry } from '../catalog/schema.js';
import type { VmConfig } from '../config/model.js';

export type { Controller } from '../catalog/controllers.js';
export type { Filesystem } from '../catalog/filesystems.js';

/**
 * The hardware of a VM, resolved from [hardware]: every disk and CD drive on a concrete controller
 * and position, partitions with sizes, and the firmware. Pure, so every VM target's description
 * file (vmx, libvirt XML, OVF) and the disk builder read the same layout.
 */
export interface VmPartition {
  name: string;
  kind: 'primary' | 'logical';
  fs: Filesystem;
  /** MiB; undefined for the last partition, which fills the disk. */
  sizeMiB?: number;
  mount?: string;
  label?: string;
  /** The EFI system partition vmgen added for UEFI boot. */
  esp?: boolean;
}

export interface VmDisk {
  /** The config's key (hdd0…), or "disk0" for the default disk. */
  name: string;
  /** File name stem, unique in the archive: NAME-hdd0. */
  file: string;
  sizeMiB: number;
  controller: Controller;
  /** Which controller of that kind (scsi0, scsi1…) and the unit on it. */
  bus: number;
  unit: number;
  table: 'mbr' | 'gpt';
  partitions: VmPartition[];
  /** Holds the root file system (and the bootloader). */
  boot: boolean;
}

export interface VmCdDrive {
  name: string;
  controller: Controller;
  bus: number;
  unit: number;
  /** ISO on the build host; undefined: an empty drive. */
  path?: string;
  copy: boolean;
  connected: boolean;
}

export interface VmLayout {
  firmware: 'bios' | 'efi';
  disks: VmDisk[];
  cdDrives: VmCdDrive[];
}

/** A machine with no [hdds] gets one disk of this size holding the root file system. */
export const DEFAULT_DISK_MIB = 8 * 1024;
export const ESP_MIB = 256;

function controllerOf(type: ControllerName | undefined, os: OsEntry): Controller {
  return controllerModel(type ?? os.defaultController);
}

/** Gives each device without a `pos` the first free unit on its controller kind. */
class Positions {
  private readonly taken = new Set<string>();

  /** undefined when every unit of that controller kind is taken. */
  claim(controller: Controller, pos: string | undefined): { bus: number; unit: number } | undefined {
    const kind = CONTROLLERS[controller];
    if (pos !== undefined) {
      const at = parsePos(pos);
      this.taken.add(`${kind.bus}${at.bus}:${at.unit}`);
      return at;
    }
    for (let bus = 0; bus <= kind.maxController; bus++) {
      for (let unit = 0; unit <= kind.maxUnit; unit++) {
        if (unit === kind.reserved || this.taken.has(`${kind.bus}${bus}:${unit}`)) continue;
        this.taken.add(`${kind.bus}${bus}:${unit}`);
        return { bus, unit };
      }
    }
    return undefined;
  }
}

/** A device the layout could not place: every position of its controller kind was taken. */
export interface UnplacedDevice {
  kind: 'hdds' | 'cd_drives';
  name: string;
  controller: Controller;
}

/** CD drives sit on IDE unless they say otherwise, whatever the OS's disk controller. */
const cdController = (type: ControllerName | undefined, os: OsEntry): Controller => controllerOf(type ?? 'ide', os);

/**
 * Disks without partitions are laid out by the OS family's rule; logical partitions need an MBR, and
 * UEFI boots from one too (the ESP is then a primary partition of type 0xEF), so they choose MBR
 * whatever the firmware. GPT otherwise follows UEFI.
 */
export function defaultTable(partitions: readonly { kind: VmPartition['kind'] }[], firmware: VmLayout['firmware']): VmDisk['table'] {
  if (partitions.some((p) => p.kind === 'logical')) return 'mbr';
  return firmware === 'efi' ? 'gpt' : 'mbr';
}

/**
 * The layout, and the devices it had no position for: validation reports those at their line,
 * so resolveVmLayout, which builds from validated configs only, never meets one.
 */
export function planVmLayout(config: VmConfig, os: OsEntry, machineName: string): { layout: VmLayout; unplaced: UnplacedDevice[] } {
  const firmware = config.hardware.firmware ?? os.firmware;
  const positions = new Positions();
  const unplaced: UnplacedDevice[] = [];
  // Explicit positions first, so automatic ones never take them.
  for (const d of Object.values(config.hardware.hdds)) if (d.pos !== undefined) positions.claim(controllerOf(d.type, os), d.pos);
  for (const cd of Object.values(config.hardware.cd_drives)) if (cd.pos !== undefined) positions.claim(cdController(cd.type, os), cd.pos);
  const place = (kind: UnplacedDevice['kind'], name: string, controller: Controller, pos: string | undefined): { bus: number; unit: number } => {
    const at = pos !== undefined ? parsePos(pos) : positions.claim(controller, undefined);
    if (at !== undefined) return at;
    unplaced.push({ kind, name, controller });
    return { bus: -1, unit: -1 };
  };
  const configured = Object.entries(config.hardware.hdds);
  const disks: VmDisk[] = configured.length > 0
    ? configured.map(([name, d]) => {
      const controller = controllerOf(d.type, os);
      const at = place('hdds', name, controller, d.pos);
      const partitions: VmPartition[] = Object.entries(d.partitions).map(([pname, p]) => ({
        name: pname, kind: p.type, fs: p.fs,
        ...(p.size === undefined ? {} : { sizeMiB: p.size }),
        ...(p.mount === undefined || p.mount === 'none' ? {} : { mount: p.mount }),
        ...(p.label === undefined ? {} : { label: p.label }),
      }));
      return {
        name, file: `${machineName}-${name}`, sizeMiB: d.size, controller, ...at,
        table: d.table ?? defaultTable(partitions, firmware), partitions, boot: false,
      };
    })
    : [{
      name: 'disk0', file: `${machineName}-disk0`, sizeMiB: DEFAULT_DISK_MIB, controller: controllerOf(undefined, os),
      ...place('hdds', 'disk0', controllerOf(undefined, os), undefined), table: firmware === 'efi' ? 'gpt' : 'mbr',
      partitions: [{ name: 'root', kind: 'primary', fs: 'ext4', mount: '/' }], boot: false,
    }];
  const rootDisk = disks.find((d) => d.partitions.some((p) => p.mount === '/')) ?? disks[0]!;
  rootDisk.boot = true;
  // A disk whose partitions were left out still needs a root file system to boot.
  if (rootDisk.partitions.length === 0) rootDisk.partitions.push({ name: 'root', kind: 'primary', fs: 'ext4', mount: '/' });
  else if (!rootDisk.partitions.some((p) => p.mount === '/')) {
    const candidate = rootDisk.partitions.find((p) => p.fs.startsWith('ext') || p.fs === 'xfs');
    if (candidate) candidate.mount = '/';
  }
  if (firmware === 'efi' && !rootDisk.partitions.some((p) => p.esp || p.mount === '/boot/efi')) {
    rootDisk.partitions.unshift({ name: 'esp', kind: 'primary', fs: 'vfat', sizeMiB: ESP_MIB, mount: '/boot/efi', label: 'ESP', esp: true });
  }
  const cdDrives: VmCdDrive[] = Object.entries(config.hardware.cd_drives).map(([name, cd]) => {
    const controller = cdController(cd.type, os);
    const at = place('cd_drives', name, controller, cd.pos);
    return { name, controller, ...at, ...(cd.path === undefined ? {} : { path: cd.path }), copy: cd.copy, connected: cd.connected };
  });
  return { layout: { firmware, disks, cdDrives }, unplaced };
}

/** The layout of a validated config. */
export function resolveVmLayout(config: VmConfig, os: OsEntry, machineName: string): VmLayout {
  const { layout, unplaced } = planVmLayout(config, os, machineName);
  if (unplaced.length > 0) throw new Error(`internal: no free position left for ${unplaced.map((u) => u.name).join(', ')}; validation lets no such config through`);
  return layout;
}

function parsePos(pos: string): { bus: number; unit: number } {
  const [bus, unit] = pos.split(':').map(Number) as [number, number];
  return { bus, unit };
}

/** The guest's packages for the file systems in its layout (fsck at boot, mkfs later). */
export function filesystemPackages(layout: VmLayout): string[] {
  const fss = new Set(layout.disks.flatMap((d) => d.partitions.map((p) => p.fs)));
  return [...new Set([...fss].map((fs) => filesystem(fs).guestPackage).filter((p): p is string => p !== undefined))].sort();
}

/** One device on its controller, as every VM target attaches it: the N of scsiN, the unit on it. */
export interface DeviceSlot {
  kind: 'hdds' | 'cd_drives';
  name: string;
  bus: ControllerBusName;
  index: number;
  unit: number;
  controller: Controller;
}

/** The layout's placed devices, disks first, as targets group them into controllers. */
export function deviceSlots(layout: VmLayout): DeviceSlot[] {
  return [
    ...layout.disks.map((d) => ({ kind: 'hdds' as const, name: d.name, controller: d.controller, index: d.bus, unit: d.unit })),
    ...layout.cdDrives.map((c) => ({ kind: 'cd_drives' as const, name: c.name, controller: c.controller, index: c.bus, unit: c.unit })),
  ].filter((s) => s.index >= 0).map((s) => ({ ...s, bus: CONTROLLERS[s.controller].bus }));
}
