import type { Target } from '../types.js';
import { vmLimits, type TargetLimits } from '../limits.js';
import { boxCheck } from './box.js';
import { AHCI_MAX_UNIT, nvmeOnSata, qemuScsiModel } from './controllers.js';

/** QEMU's SCSI and AHCI models have fewer units than VMware's, whose numbering the layout uses. */
export const qemuLimits: TargetLimits['check'] = (config, os, report) => vmLimits(config, os, report, {
  label: 'QEMU',
  unitLimit: (bus, model, os, firmware) => {
    const scsi = bus === 'scsi' ? qemuScsiModel(model, os, firmware) : undefined;
    if (scsi !== undefined) return { max: scsi.maxUnit, model: scsi.qemu };
    // Windows has no NVMe-on-virtio driver, so the libvirt XML puts its NVMe disks on AHCI (nvmeOnSata).
    if (bus === 'nvme' && nvmeOnSata(os)) return { max: AHCI_MAX_UNIT, model: 'AHCI (Windows NVMe disks)' };
    return bus === 'sata' ? { max: AHCI_MAX_UNIT, model: 'AHCI' } : undefined;
  },
});

/** QEMU/KVM (libvirt)'s row in the target registry (src/targets/registry.ts). */
export const qemuTarget = { id: 'qemu', kind: 'vm', label: 'QEMU/KVM (libvirt)', check: qemuLimits, formatChecks: { box: boxCheck } } as const satisfies Target;
