import type { Family } from '../family.js';
import { debianChecks } from './checks.js';
import { debianConfigurator } from './configure.js';
import { debianVmKernel } from './vm-kernel.js';

/** Debian and Ubuntu: a root file system layer made by apt (mmdebstrap). */
export const debianFamily: Family = {
  id: 'debian',
  configurator: debianConfigurator,
  root: { kind: 'layer', vmKernel: debianVmKernel },
  checks: debianChecks,
};
