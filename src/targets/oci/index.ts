import type { Target } from '../types.js';
import { containerLimits, machineNameLimits, type TargetLimits } from '../limits.js';
import { REF_NAME } from './ref-name.js';

/** The image is tagged NAME:latest, which the image layout's ref-name grammar must accept. */
export const ociLimits: TargetLimits['check'] = (config, os, report, targets) => {
  containerLimits(config, os, report, 'OCI', targets);
  machineNameLimits(config, report, 'OCI', (n) => REF_NAME.test(`${n}:latest`), 'an image name');
};

/** OCI image's row in the target registry (src/targets/registry.ts). */
export const ociTarget = { id: 'oci', kind: 'container', label: 'OCI image', check: ociLimits } as const satisfies Target;
