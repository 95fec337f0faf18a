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

/**
 * The kernel each family's guests run. It decides what targets and checks branch on: a container
 * shares the host's Linux kernel, and each kernel has its own account names and system groups.
 */
export const FAMILY_KERNEL = {
  debian: 'linux',
  redhat: 'linux',
  windows: 'windows',
} as const satisfies Record<FamilyId, string>;
export type GuestKernel = (typeof FAMILY_KERNEL)[FamilyId];

export function kernelOf(os: { family: FamilyId }): GuestKernel {
  return FAMILY_KERNEL[os.family];
}

export function isWindows(os: { family: FamilyId }): boolean {
  return kernelOf(os) === 'windows';
}

/**
 * Installers that read an apt sources list: their OS entry names a suite, a config's [config]
 * repos are source lines, and the host's own sources can give the default mirror.
 */
const READS_APT_SOURCES: Record<InstallerId, boolean> = { apt: true, dnf: false, yum: false, 'windows-kits': false };

export function readsAptSources(installer: InstallerId): boolean {
  return READS_APT_SOURCES[installer];
}

export function isPackageInstaller(installer: InstallerId): installer is PackageInstallerId {
  return (PACKAGE_INSTALLER_IDS as readonly InstallerId[]).includes(installer);
}

/** The app catalog's installer keys, each with the installers that read it (dnf: dnf and yum), in INSTALLER_IDS order. */
export const CATALOG_KEYS: ReadonlyArray<{ key: CatalogKey; installers: readonly InstallerId[] }> = [...new Set(INSTALLER_IDS.map((id) => CATALOG_KEY_OF[id]))].map(
  (key) => ({ key, installers: INSTALLER_IDS.filter((id) => CATALOG_KEY_OF[id] === key) }),
);
