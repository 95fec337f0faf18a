/*
 * The names of the OS families and of the installers the OS table may name, and nothing else: the
 * catalog schema and config validation import these without importing any implementation. The
 * implementations are keyed by them (src/families/registry.ts, src/installers/registry.ts), typed
 * Record<Id, …>, so a name without its row is a type error.
 */

/**
 * One row per installer an OS entry may name: whether it is a package tool that makes a root file
 * system (the Installer interface; Windows' kits are the Windows row's own), the key of an app entry
 * that holds what it installs (yum reads dnf's: the RPM names are the same), and whether it reads an
 * apt sources list (its OS entry names a suite, a config's repos are source lines, and the host's
 * own sources can give the default mirror).
 */
const INSTALLER_TABLE = {
  apt: { packageTool: true, catalogKey: 'apt', readsAptSources: true },
  dnf: { packageTool: true, catalogKey: 'dnf', readsAptSources: false },
  yum: { packageTool: true, catalogKey: 'dnf', readsAptSources: false },
  'windows-kits': { packageTool: false, catalogKey: 'windows-kits', readsAptSources: false },
} as const satisfies Record<string, { packageTool: boolean; catalogKey: string; readsAptSources: boolean }>;

/**
 * One row per OS family: the kernel its guests run (what targets and checks branch on: a container
 * shares the host's Linux kernel, each kernel has its own account names and system groups) and the
 * installers an OS entry of the family may name (its configurator is the family's own).
 */
const FAMILY_TABLE = {
  debian: { kernel: 'linux', installers: ['apt'] },
  redhat: { kernel: 'linux', installers: ['dnf', 'yum'] },
  windows: { kernel: 'windows', installers: ['windows-kits'] },
} as const satisfies Record<string, { kernel: string; installers: readonly (keyof typeof INSTALLER_TABLE)[] }>;

type FamilyTable = typeof FAMILY_TABLE;
type InstallerTable = typeof INSTALLER_TABLE;

export type FamilyId = keyof FamilyTable;
export const FAMILY_IDS = Object.keys(FAMILY_TABLE) as [FamilyId, ...FamilyId[]];

export type InstallerId = keyof InstallerTable;
export const INSTALLER_IDS = Object.keys(INSTALLER_TABLE) as [InstallerId, ...InstallerId[]];

/** Installers that make a root file system from a package mirror (the Installer interface). */
export type PackageInstallerId = { [K in InstallerId]: InstallerTable[K]['packageTool'] extends true ? K : never }[InstallerId];
export const PACKAGE_INSTALLER_IDS = INSTALLER_IDS.filter((id) => INSTALLER_TABLE[id].packageTool) as PackageInstallerId[];

/** Which installers an OS entry of each family may name. */
export const FAMILY_INSTALLERS: Record<FamilyId, readonly InstallerId[]> = Object.fromEntries(FAMILY_IDS.map((f) => [f, FAMILY_TABLE[f].installers])) as unknown as Record<FamilyId, readonly InstallerId[]>;

/** The key of an app entry that holds what an installer installs. */
export const CATALOG_KEY_OF = Object.fromEntries(INSTALLER_IDS.map((i) => [i, INSTALLER_TABLE[i].catalogKey])) as { [I in InstallerId]: InstallerTable[I]['catalogKey'] };
export type CatalogKey = InstallerTable[InstallerId]['catalogKey'];

export type GuestKernel = FamilyTable[FamilyId]['kernel'];

export function kernelOf(os: { family: FamilyId }): GuestKernel {
  return FAMILY_TABLE[os.family].kernel;
}

export function isWindows(os: { family: FamilyId }): boolean {
  return kernelOf(os) === 'windows';
}

export function readsAptSources(installer: InstallerId): boolean {
  return INSTALLER_TABLE[installer].readsAptSources;
}

export function isPackageInstaller(installer: InstallerId): installer is PackageInstallerId {
  return INSTALLER_TABLE[installer].packageTool;
}

/** The app catalog's installer keys, each with the installers that read it (dnf: dnf and yum), in INSTALLER_IDS order. */
export const CATALOG_KEYS: ReadonlyArray<{ key: CatalogKey; installers: readonly InstallerId[] }> = [...new Set(INSTALLER_IDS.map((id) => CATALOG_KEY_OF[id]))].map(
  (key) => ({ key, installers: INSTALLER_IDS.filter((id) => CATALOG_KEY_OF[id] === key) }),
);
