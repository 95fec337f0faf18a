import type { Catalogs } from '../../catalog/schema.js';
import type { ResolvedSpec } from '../../config/resolve.js';
import { windowsRelease } from './releases.js';
import { CONFIG_BAT, WINDOWS_DIR, windowsConfigBat, windowsConfigFiles } from './configure.js';
import { windowsInstallerFiles } from './kits.js';
import type { VmLayout } from '../../disks/layout.js';
import type { ReviewFile } from '../types.js';
import { platformOffered, type PlatformSecurity } from '../platform-security.js';
import { renderAutounattend } from './autounattend.js';

/**
 * The Windows files `vmgen render` adds to the configurator's (config.bat, vmgen-services.ps1, the
 * inline [files] and first-logon scripts): setup.bat in the guest, and for releases Windows Setup
 * installs unattended, the answer media (autounattend.xml at its root, the scripts under vmgen/;
 * kits and [files] sources are the host's files and are added by the build). `offers` is what the target's
 * commander can give (its platformSecurity): the answer file skips the checks it cannot.
 */
export function windowsReviewFiles(spec: ResolvedSpec, catalogs: Catalogs, layout: VmLayout | undefined, offers: PlatformSecurity | undefined): ReviewFile[] {
  const setup = windowsInstallerFiles(spec, catalogs);
  const files: ReviewFile[] = setup.map((f) => ({ path: `guest${f.path}`, content: f.content }));
  if (layout !== undefined && windowsRelease(spec.os).autounattend) {
    files.push(
      { path: 'answer/autounattend.xml', content: renderAutounattend(spec, layout, platformOffered(offers, layout)) },
      { path: `answer${WINDOWS_DIR}/${CONFIG_BAT}`, content: windowsConfigBat(spec) },
      ...windowsConfigFiles(spec).map((f) => ({ path: `answer${f.path}`, content: f.content })),
      ...setup.map((f) => ({ path: `answer${f.path}`, content: f.content })),
    );
  }
  return files;
}
