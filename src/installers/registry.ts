import type { Installer as InstallerId } from '../catalog/schema.js';
import { aptInstaller } from './apt/index.js';
import { dnfInstaller } from './dnf/index.js';
import { windowsKitsInstaller } from '../families/windows/kits.js';
import type { Installer } from './types.js';

/** Every package tool vmgen drives, one line each; keyed by the OS table's `installer`. */
export const INSTALLERS: Partial<Record<InstallerId, Installer>> = {
  apt: aptInstaller,
  dnf: dnfInstaller,
  'windows-kits': windowsKitsInstaller,
};

export function installerFor(id: InstallerId): Installer | undefined {
  return INSTALLERS[id];
}
