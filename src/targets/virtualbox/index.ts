import type { Target } from '../types.js';
import { vmLimits, type TargetLimits } from '../limits.js';
import { MAX_NICS } from './capacity.js';

/** VirtualBox's eight adapters, and the one SATA, SCSI and NVMe controller its OVF import creates (IDE has two channels). */
export const virtualboxLimits: TargetLimits['check'] = (config, os, report) =>
  vmLimits(config, os, report, { label: 'VirtualBox', maxNics: MAX_NICS, singleController: ['sata', 'scsi', 'nvme'] });

/** VirtualBox (OVA)'s row in the target registry (src/targets/registry.ts). */
export const virtualboxTarget = { id: 'virtualbox', kind: 'vm', label: 'VirtualBox (OVA)', check: virtualboxLimits } as const satisfies Target;
