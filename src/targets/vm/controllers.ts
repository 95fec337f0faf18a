import { CONTROLLERS, cdBuses, type ControllerBusName } from '../../catalog/controllers.js';
import { orList } from '../../diagnostics.js';
import type { Controller, VmCdDrive, VmDisk, VmLayout } from '../../disks/layout.js';

/** The layout's disks and CD drives as the VM targets attach them: by controller, then unit. */
export type BusKind = ControllerBusName;

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
 * .vmx does (scsiN:M); qemu and VirtualBox group the same way.
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
    if (busOf(cd.controller) === 'nvme') throw new Error(`CD drive ${cd.name}: NVMe controllers hold disks only; use ${orList(cdBuses())}`);
    attach(cd.controller, cd.bus, { type: 'cdrom', unit: cd.unit, cd });
  }
  for (const g of groups.values()) g.devices.sort((a, b) => a.unit - b.unit);
  return [...groups.values()];
}

function busOf(controller: Controller): BusKind {
  return CONTROLLERS[controller].bus;
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
