import type { PackageInstallerId } from '../catalog/families.js';
import { aptInstaller } from './apt/index.js';
import { dnfInstaller } from './dnf/index.js';
import type { Installer } from './types.js';
import { yumInstaller } from './yum/index.js';

/**
 * Every package tool that makes a root file system, one line each; keyed by the OS table's
 * `installer`. Windows' kits are not one: they belong to the Windows family row.
 */
export const INSTALLERS: Record<PackageInstallerId, Installer> = {
  apt: aptInstaller,
  dnf: dnfInstaller,
  yum: yumInstaller,
};

/** The package installer of an OS entry; undefined for an installer that makes no root file system (windows-kits). */
export function installerFor(id: string): Installer | undefined {
  return Object.hasOwn(INSTALLERS, id) ? INSTALLERS[id as PackageInstallerId] : undefined;
}
