import type { OsEntry } from '../catalog/schema.js';
import type { VmConfig } from '../config/model.js';
import { CONTROLLER_BUS } from './controllers.js';

/**
 * The hardware of a VM, resolved from [hardware]: every disk and CD drive on a concrete controller
 * and position, partitions with sizes, and the firmware. Pure, so every VM target's description
 * file (vmx, libvirt XML, OVF) and the disk builder read the same layout.
 */
export type Controller = 'ide' | 'lsilogic' | 'buslogic' | 'lsisas1068' | 'pvscsi' | 'sata' | 'nvme';
export type Filesystem = 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'vfat' | 'ntfs' | 'swap';

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

function controllerOf(type: string | undefined, os: OsEntry): Controller {
  const t = type ?? os.defaultController;
  return (t === 'scsi' ? 'lsilogic' : t) as Controller;
}

/** Gives each device without a `pos` the first free unit on its controller kind. */
class Positions {
  private readonly taken = new Set<string>();

  claim(controller: Controller, pos: string | undefined): { bus: number; unit: number } {
    const kind = CONTROLLER_BUS[controller]!;
    if (pos !== undefined) {
      const [bus, unit] = pos.split(':').map(Number) as [number, number];
      this.taken.add(`${kind.bus}${bus}:${unit}`);
      return { bus, unit };
    }
    for (let bus = 0; bus <= kind.maxController; bus++) {
      for (let unit = 0; unit <= kind.maxUnit; unit++) {
        if (unit === kind.reserved || this.taken.has(`${kind.bus}${bus}:${unit}`)) continue;
        this.taken.add(`${kind.bus}${bus}:${unit}`);
        return { bus, unit };
      }
    }
    throw new Error(`no free position left on the ${controller} controllers`);
  }
}

export function resolveVmLayout(config: VmConfig, os: OsEntry, machineName: string): VmLayout {
  const firmware = config.hardware.firmware ?? os.firmware;
  const positions = new Positions();
  // Explicit positions first, so automatic ones never take them.
  for (const d of [...Object.values(config.hardware.hdds), ...Object.values(config.hardware.cd_drives)]) {
    if (d.pos !== undefined) positions.claim(controllerOf(d.type, os), d.pos);
  }
  const configured = Object.entries(config.hardware.hdds);
  const disks: VmDisk[] = configured.length > 0
    ? configured.map(([name, d]) => {
      const controller = controllerOf(d.type, os);
      const at = d.pos !== undefined ? parsePos(d.pos) : positions.claim(controller, undefined);
      const partitions: VmPartition[] = Object.entries(d.partitions).map(([pname, p]) => ({
        name: pname, kind: p.type, fs: p.fs,
        ...(p.size === undefined ? {} : { sizeMiB: p.size }),
        ...(p.mount === undefined || p.mount === 'none' ? {} : { mount: p.mount }),
        ...(p.label === undefined ? {} : { label: p.label }),
      }));
      return {
        name, file: `${machineName}-${name}`, sizeMiB: d.size, controller, ...at,
        table: d.table ?? (firmware === 'efi' ? 'gpt' : 'mbr'), partitions, boot: false,
      };
    })
    : [{
      name: 'disk0', file: `${machineName}-disk0`, sizeMiB: DEFAULT_DISK_MIB, controller: controllerOf(undefined, os),
      ...positions.claim(controllerOf(undefined, os), undefined), table: firmware === 'efi' ? 'gpt' : 'mbr',
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
    const controller = controllerOf(cd.type ?? 'ide', os);
    const at = cd.pos !== undefined ? parsePos(cd.pos) : positions.claim(controller, undefined);
    return { name, controller, ...at, ...(cd.path === undefined ? {} : { path: cd.path }), copy: cd.copy, connected: cd.connected };
  });
  return { firmware, disks, cdDrives };
}

function parsePos(pos: string): { bus: number; unit: number } {
  const [bus, unit] = pos.split(':').map(Number) as [number, number];
  return { bus, unit };
}

/** The guest's tools for the file systems it mounts (fsck at boot, mkfs later). */
const FS_PACKAGES: Partial<Record<Filesystem, string>> = { xfs: 'xfsprogs', ntfs: 'ntfs-3g' };

export function filesystemPackages(layout: VmLayout): string[] {
  const fss = new Set(layout.disks.flatMap((d) => d.partitions.map((p) => p.fs)));
  return [...new Set([...fss].map((fs) => FS_PACKAGES[fs]).filter((p): p is string => p !== undefined))].sort();
}
