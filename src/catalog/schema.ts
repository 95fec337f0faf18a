import { z } from 'zod';
import { CONTROLLER_MODELS } from './controllers.js';
import { type CatalogKey, FAMILY_IDS, FAMILY_INSTALLERS, INSTALLER_IDS, readsAptSources } from './families.js';

/*
 * Schemas for the two catalogs: the OS table (catalog/os.json) and the application catalog
 * (catalog/apps.json). Admins extend both with extra files of the same shape, so the rules here
 * are what keeps an admin's file from breaking a build: names that end up inside generated shell
 * or batch scripts are restricted to characters that need no quoting.
 */

const ID = /^[a-z0-9][a-z0-9._-]*$/;
const APP_NAME = /^[a-z0-9][a-z0-9+._-]*$/;
// Debian and RPM package names, plus arch/version qualifiers (pkg:i386, pkg=1.2); nothing a shell interprets.
const PACKAGE = /^[A-Za-z0-9][A-Za-z0-9+._:=~-]*$/;
const UNIT = /^[A-Za-z0-9][A-Za-z0-9@._:-]*$/;
// A kit is a file in the admin's kit folder, never a path: setup.bat refers to it by name.
const SETUP_FILE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
// Quiet-mode switches go verbatim into setup.bat, so no batch metacharacters (& | < > ^ % ").
const KIT_ARGS = /^[A-Za-z0-9 =/._:,-]*$/;
// One argument, with the path's place marked; the double quotes are the installer's own syntax.
const KIT_INSTALL_DIR = /^[A-Za-z0-9=/._:,"-]*\{dir\}[A-Za-z0-9=/._:,"-]*$/;

export const FamilySchema = z.enum(FAMILY_IDS);
export const DistributionSchema = z.enum(['debian', 'ubuntu', 'fedora', 'rocky', 'alma', 'windows']);
export const InstallerSchema = z.enum(INSTALLER_IDS);
/** Each family has its own configurator, named as the family. */
export const ConfiguratorSchema = z.enum(FAMILY_IDS);
export const ControllerSchema = z.enum(CONTROLLER_MODELS);
export const FirmwareSchema = z.enum(['bios', 'efi']);
/**
 * The fastest network card a guest drives with the drivers it ships: e1000 (Intel 82545EM, Windows
 * XP to 7 and Server 2003 to 2008 R2), e1000e (Intel 82574L, Windows 8 and Server 2012 on), or the
 * hypervisor's paravirtual card (Linux: vmxnet3 on VMware, virtio-net on qemu). Each target maps
 * these onto its own device names.
 */
export const GuestNicSchema = z.enum(['e1000', 'e1000e', 'paravirtual']);
export const CategorySchema = z.enum(['devel', 'services', 'gui']);

export const OsEntrySchema = z
  .strictObject({
    id: z.string().regex(ID, 'an OS id is lower-case letters, digits, ".", "_" or "-"'),
    label: z.string().min(1),
    family: FamilySchema,
    distribution: DistributionSchema,
    release: z.string().min(1),
    codename: z.string().regex(ID).optional(),
    /** The apt suite written into sources.list and passed to debootstrap. */
    suite: z.string().regex(ID).optional(),
    /** Distributions whose app overrides also apply, like os-release ID_LIKE (Rocky/Alma → "rhel"). */
    like: z.array(z.string().regex(ID)).optional(),
    arch: z.enum(['amd64', 'i386']),
    bits: z.union([z.literal(32), z.literal(64)]),
    installer: InstallerSchema,
    configurator: ConfiguratorSchema,
    vmwareGuestOs: z.string().regex(/^[A-Za-z0-9-]+$/),
    /** Absent in an admin's entry: e1000, which every guest from Windows XP and Linux 2.4.19 on drives. */
    nic: GuestNicSchema.default('e1000'),
    defaultController: ControllerSchema,
    firmware: FirmwareSchema,
    /** A seed-era id kept so old config files still build. */
    legacy: z.boolean().optional(),
  })
  .superRefine((os, ctx) => {
    // The installer and configurator are picked from these fields, so a mismatch would pair
    // e.g. apt with a Windows guest at build time instead of failing here.
    const expected = { installers: FAMILY_INSTALLERS[os.family], configurator: os.family };
    if (!expected.installers.includes(os.installer)) {
      ctx.addIssue({
        code: 'custom',
        path: ['installer'],
        message: `family ${os.family} uses installer ${expected.installers.join(' or ')}, not ${os.installer}`,
      });
    }
    if (os.configurator !== expected.configurator) {
      ctx.addIssue({
        code: 'custom',
        path: ['configurator'],
        message: `family ${os.family} uses configurator ${expected.configurator}, not ${os.configurator}`,
      });
    }
    if (readsAptSources(os.installer) && os.suite === undefined) {
      ctx.addIssue({ code: 'custom', path: ['suite'], message: 'an apt distribution needs its suite' });
    }
    if ((os.arch === 'amd64') !== (os.bits === 64)) {
      ctx.addIssue({ code: 'custom', path: ['bits'], message: `arch ${os.arch} does not match bits ${os.bits}` });
    }
  });

/** The distribution cannot provide the app: a reason for the user, never a silent substitute. */
export const UnavailableSchema = z.strictObject({
  unavailable: z.string().min(1),
  hint: z.string().min(1).optional(),
});

export const PackageSpecSchema = z.strictObject({
  packages: z.array(z.string().regex(PACKAGE, 'not a package name')).min(1),
  /** systemd units to enable at boot, as the package ships them. */
  services: z.array(z.string().regex(UNIT, 'not a systemd unit name')).default([]),
});

/** Listing 4.8 of the seed: an msi, a "simple" executable with quiet switches, or a zip to extract. */
export const WindowsKitSchema = z.strictObject({
  type: z.enum(['msi', 'simple', 'archive']),
  setupFile: z.string().regex(SETUP_FILE, 'a kit is a plain file name'),
  /** Quiet-mode arguments; the seed ran a simple kit without args as "/S". */
  args: z.string().regex(KIT_ARGS, 'kit arguments may not contain batch metacharacters').optional(),
  /**
   * How a "simple" kit is told its install directory ([kits] install_dir): the argument with {dir}
   * where the path goes, as its installer spells it: /D={dir} for NSIS (last, unquoted even with
   * spaces), /DIR="{dir}" for Inno Setup. Without it, install_dir is refused for the kit.
   */
  installDir: z.string().regex(KIT_INSTALL_DIR, 'an argument with {dir} where the path goes, e.g. /D={dir}').optional(),
});

export const LinuxInstallSchema = z.union([PackageSpecSchema, UnavailableSchema], {
  error: 'expected {"packages": [...], "services": [...]} or {"unavailable": "reason", "hint": "..."}',
});
export const WindowsInstallSchema = z.union([WindowsKitSchema, UnavailableSchema], {
  error: 'expected {"type": "msi|simple|archive", "setupFile": "...", "args": "..."} or {"unavailable": "reason", "hint": "..."}',
});

const installers = {
  apt: LinuxInstallSchema.optional(),
  /** Also used for yum: the RPM names are the same (CATALOG_KEY_OF). */
  dnf: LinuxInstallSchema.optional(),
  'windows-kits': WindowsInstallSchema.optional(),
} satisfies Record<CatalogKey, z.ZodType>;

export const AppInstallersSchema = z.strictObject(installers);

export const AppEntrySchema = z.strictObject({
  name: z.string().regex(APP_NAME, 'a generic name is lower-case letters, digits, "+", ".", "_" or "-"'),
  category: CategorySchema,
  description: z.string().min(1),
  ...installers,
  /**
   * Replaces an installer's entry for some OSes. Keys, most specific first: an OS id,
   * "distribution:release", "distribution", "like:release", "like" (see OsEntry.like).
   */
  osOverrides: z
    .record(z.string().regex(/^[a-z0-9][a-z0-9._-]*(:[a-z0-9._-]+)?$/, 'not an OS id or distribution[:release]'), AppInstallersSchema)
    .optional(),
});

/** The top level of a catalog file; entries are checked one by one so errors can name them. */
export const CatalogFileSchema = z.strictObject({
  $comment: z.string().optional(),
  os: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]).optional(),
  apps: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]).optional(),
});

export type OsEntry = z.infer<typeof OsEntrySchema>;
export type AppEntry = z.infer<typeof AppEntrySchema>;
export type AppInstallers = z.infer<typeof AppInstallersSchema>;
export type PackageSpec = z.infer<typeof PackageSpecSchema>;
export type Unavailable = z.infer<typeof UnavailableSchema>;
export type WindowsKit = z.infer<typeof WindowsKitSchema>;
export type Installer = z.infer<typeof InstallerSchema>;
export type GuestNic = z.infer<typeof GuestNicSchema>;
export type Category = z.infer<typeof CategorySchema>;
/** The keys an app entry uses: yum shares dnf's. */
export type CatalogInstaller = keyof AppInstallers;

export interface Catalogs {
  os: OsEntry[];
  apps: AppEntry[];
  /** Every file read, built-in first, in the order later ones override earlier ones. */
  files: string[];
}
