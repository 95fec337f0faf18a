import type { Family } from '../family.js';
import { findWindowsFacts, planWindowsRoot } from './build.js';
import { windowsConfigurator } from './configure.js';
import { windowsReviewFiles } from './review-files.js';

/**
 * Windows: no root file system layer. The disks are cloned from the admin's base disk or left
 * blank for Windows Setup with an answer CD; the kits are this row's own (setup.bat), not an installer.
 */
export const windowsFamily: Family = {
  id: 'windows',
  configurator: windowsConfigurator,
  root: { kind: 'disk-image', findFacts: findWindowsFacts, plan: planWindowsRoot },
  reviewFiles: ({ spec, catalogs, layout, offers }) => windowsReviewFiles(spec, catalogs, layout, offers),
};
