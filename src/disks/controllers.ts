/**
 * What each disk controller holds: its bus name in VMware's and libvirt's terms, how many
 * controllers and units, and the unit a SCSI controller keeps for itself.
 */
export interface ControllerBus {
  bus: 'ide' | 'scsi' | 'sata' | 'nvme';
  maxController: number;
  maxUnit: number;
  reserved?: number;
}

export const CONTROLLER_BUS: Readonly<Record<string, ControllerBus>> = {
  ide: { bus: 'ide', maxController: 1, maxUnit: 1 },
  scsi: { bus: 'scsi', maxController: 3, maxUnit: 15, reserved: 7 },
  lsilogic: { bus: 'scsi', maxController: 3, maxUnit: 15, reserved: 7 },
  buslogic: { bus: 'scsi', maxController: 3, maxUnit: 15, reserved: 7 },
  lsisas1068: { bus: 'scsi', maxController: 3, maxUnit: 15, reserved: 7 },
  pvscsi: { bus: 'scsi', maxController: 3, maxUnit: 15, reserved: 7 },
  sata: { bus: 'sata', maxController: 3, maxUnit: 29 },
  nvme: { bus: 'nvme', maxController: 3, maxUnit: 14 },
};
