import type { Target } from '../types.js';
import { containerLimits, machineNameLimits, type TargetLimits } from '../limits.js';
import { SAFE_NAME } from '../names.js';

export const lxcLimits: TargetLimits['check'] = (config, os, report, targets) => {
  containerLimits(config, os, report, 'LXC', targets);
  machineNameLimits(config, report, 'LXC', (n) => SAFE_NAME.test(n), 'a container name');
};

/** LXC's row in the target registry (src/targets/registry.ts). */
export const lxcTarget = { id: 'lxc', kind: 'container', label: 'LXC', check: lxcLimits } as const satisfies Target;
