import type { Family } from '../family.js';
import { redhatChecks } from './checks.js';
import { redhatConfigurator } from './configure.js';
import { redhatVmKernel } from './vm-kernel.js';

/** Fedora, Rocky, Alma: a root file system layer made by dnf or yum. */
export const redhatFamily: Family = {
  id: 'redhat',
  configurator: redhatConfigurator,
  root: { kind: 'layer', vmKernel: redhatVmKernel },
  checks: redhatChecks,
};
