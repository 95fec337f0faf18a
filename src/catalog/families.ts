/*
 * The names of the OS families and of the installers the OS table may name, and nothing else: the
 * catalog schema and config validation import these without importing any implementation. The
 * implementations are keyed by them (src/families/registry.ts, src/installers/registry.ts), typed
 * Record<Id, …>, so a name without its row is a type error.
 */

export const FAMILY_IDS = ['debian', 'redhat', 'windows'] as const;
export type FamilyId = (typeof FAMILY_IDS)[number];

/** Installers that make a root file system from a package mirror (the Installer interface). */
export const PACKAGE_INSTALLER_IDS = ['apt', 'dnf', 'yum'] as const;
export type PackageInstallerId = (typeof PACKAGE_INSTALLER_IDS)[number];

/** Every installer an OS entry may name: the package tools, and Windows' kits (the Windows row's own). */
export const INSTALLER_IDS = [...PACKAGE_INSTALLER_IDS, 'windows-kits'] as const;
export type InstallerId = (typeof INSTALLER_IDS)[number];

/** Which installers an OS entry of each family may name; its configurator is the family's own. */
export const FAMILY_INSTALLERS: Record<FamilyId, readonly InstallerId[]> = {
  debian: ['apt'],
  redhat: ['dnf', 'yum'],
  windows: ['windows-kits'],
};

/** The key of an app entry that holds what an installer installs: yum reads dnf's (the RPM names are the same). */
export const CATALOG_KEY_OF = {
  apt: 'apt',
  dnf: 'dnf',
  yum: 'dnf',
  'windows-kits': 'windows-kits',
} as const satisfies Record<InstallerId, InstallerId>;
export type CatalogKey = (typeof CATALOG_KEY_OF)[InstallerId];
