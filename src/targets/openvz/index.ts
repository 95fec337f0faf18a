import type { Target } from '../types.js';
import { containerLimits, machineNameLimits, type TargetLimits } from '../limits.js';
import { SAFE_NAME } from '../names.js';

export const openvzLimits: TargetLimits['check'] = (config, os, report, targets) => {
  containerLimits(config, os, report, 'OpenVZ', targets);
  machineNameLimits(config, report, 'OpenVZ', (n) => SAFE_NAME.test(n), 'part of a template name');
};

/** OpenVZ's row in the target registry (src/targets/registry.ts). */
export const openvzTarget = { id: 'openvz', kind: 'container', label: 'OpenVZ', check: openvzLimits } as const satisfies Target;
