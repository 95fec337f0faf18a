import type { Target } from '../types.js';
import { vmLimits, vmwareMacLimits, type MacRange, type TargetLimits } from '../limits.js';
import { MAX_NICS } from './capacity.js';

/** What a .vmx can hold: ethernet0…9, and VMware's static MAC range. */
export const vmwareLimits: TargetLimits['check'] = (config, os, report) => {
  vmLimits(config, os, report, { label: 'VMware', maxNics: MAX_NICS });
  vmwareMacLimits(config, report);
};

/** The addresses VMware keeps as configured (isVmwareStaticMac): 00:50:56:00:00:00 to 00:50:56:3f:ff:ff. */
export const VMWARE_STATIC_MACS: MacRange = { prefix: [0x00, 0x50, 0x56], fourthMax: 0x3f };

/** VMware's row in the target registry (src/targets/registry.ts). */
export const vmwareTarget = { id: 'vmware', kind: 'vm', label: 'VMware', check: vmwareLimits, staticMacs: VMWARE_STATIC_MACS } as const satisfies Target;
