import type { ResolvedSpec } from '../config/resolve.js';
import type { VmConfig } from '../config/model.js';
import type { GuestFile } from '../families/types.js';
import type { TargetLimits } from './limits.js';

export type { TargetKind } from './limits.js';
import type { PlatformSecurity } from '../families/platform-security.js';
import type { VmLayout } from '../disks/layout.js';
import type { ArchiveFormat } from '../archive/formats.js';
import type { DiskFormat, DiskImage } from '../disks/types.js';
import type { LayerParts } from '../archive/layered.js';
import type { LayerKeyParts } from '../cache/key.js';

export { ARCHIVE_FORMATS, type ArchiveFormat } from '../archive/formats.js';
export type { DiskFormat, DiskImage } from '../disks/types.js';

/** A file the target puts in the archive next to the root file system (lxc config, CTID.conf). */
export interface ArchiveEntry {
  /** Relative to the archive's top level. */
  path: string;
  content: string;
  mode?: number;
}

/** What a target generates as text, without building: golden-tested, and written by `vmgen render`. */
export interface TargetRender {
  archiveFiles: ArchiveEntry[];
  /** Files the target needs inside the guest (a container's fstab, a console getty override). */
  guestFiles: GuestFile[];
}

/** Per-build choices a target needs that the machine config does not describe. */
export interface TargetOptions {
  /** lxc: the directory the archive is unpacked under (lxc-start -P DIR); LXC accepts only absolute paths. */
  lxcPath?: string;
  /** openvz: the container id the CTID.conf is named after. */
  ctid?: number;
  /** Windows: the admin's directory of installer kits (--kits; else VMGEN_KITS_DIR). */
  kitsDir?: string;
  /** Windows: the admin's directory of base disks, OS-ID.vmdk/.qcow2/.raw (--base-disks; else VMGEN_BASE_DISKS_DIR). */
  baseDisksDir?: string;
}

export interface PackageContext {
  spec: ResolvedSpec;
  options: TargetOptions;
  /** Scratch directory of this build; holds `rootfs/` (the configured guest) and nothing else yet. */
  stageDir: string;
  /** Path to write the finished archive to; the caller renames it into place. */
  output: string;
  /**
   * Set when the caller keeps archives as parts (the service's artifact store): where a packer may
   * leave the archive's first part apart, as a link to a file it did not write (a cached layer
   * part) instead of a copy of it in `output`. It then returns `{ headApart: true }`, and the
   * archive is that file followed by `output`.
   */
  headPath?: string;
  format: ArchiveFormat;
  signal: AbortSignal;
  /** Size of the root file system, when known, for progress. */
  expectedBytes?: number;
  /** VM targets: the disk layout and the images the build made from it, in layout order. */
  vm?: { layout: VmLayout; images: DiskImage[] };
  /**
   * Layer roots: what the machine stands on and what its build changed, for a packer that stores
   * the shared part once (a lab's member, src/lab) instead of the whole root.
   */
  base?: BuildBase;
  /**
   * The cache of layer parts (src/archive/layered.ts), when the driver has one: a packer of a
   * layer build joins the cached part of the layer with its own changes instead of packing the root.
   */
  layerParts?: LayerParts;
  progress(fraction: number): void;
  /** Notes for the build log. */
  log?(line: string): void;
}

/** What a packer says of the archive it packed. */
export interface Packed {
  /** The archive's first part is at the context's `headPath`, and `output` holds only the rest. */
  headApart: boolean;
}

/** What a packer's `prepare` starts from: the cached layer the build's overlay stands on. */
export interface PrepareContext {
  layerKey: string;
  layerRootfs: string;
  format: ArchiveFormat;
  layerParts?: LayerParts;
  /**
   * Set while the layer is still being prepared: its key parts, the guest directories the
   * preparation writes, and when it has ended. What it writes is packed only after that.
   */
  unpublished?: { parts: LayerKeyParts; writes: readonly string[]; prepared: Promise<void> };
  signal: AbortSignal;
  log(line: string): void;
}

/** The shared part a build stood on (a cached layer; for VMs, the cached disk set) and the build's own part. */
export interface BuildBase {
  layerKey: string;
  layerRootfs: string;
  /** Overlay builds: the upper directory (every file the build wrote; deletions as whiteouts). */
  upper?: string;
  /** VMs whose disks were patched from the cache: the disk set's directory, its key and file per disk. */
  disks?: { key: string; dir: string; files: Record<string, string> };
}

/**
 * What the commands that start a built archive need: the machine, where the archive is and in
 * which format, the choices the build was made with, and a directory for the machine's own files.
 */
export interface RunContext {
  spec: ResolvedSpec;
  /** The archive as the commands name it: a path, or the file name a download offers (the commands then run where it was saved). */
  archive: string;
  format: ArchiveFormat;
  options: TargetOptions;
  /**
   * Where the commands may make a folder of the machine's own (a VM's unpacked files, an image
   * unpacked for import, a Vagrant project): absolute, or `~` (the service's: the user's home).
   */
  dir: string;
  /** The name to give the machine where the runtime lets its user choose one (lxc-create, podman run); else the spec's. */
  name?: string;
}

/** One command of starting a built archive: its words, and what it does in a few words. */
export interface RunCommand {
  what: string;
  argv: [string, ...string[]];
}

/** What packs a build's archive: the target's Commander, or another packer with the same entry (a lab's member). */
export type Packer = Pick<Commander, 'package' | 'hostTools' | 'prepare'>;

/** The seed's Commander for one target: what it generates and how it packs the result. */
export interface Commander {
  /** Who configures the NICs: the target's own config (lxc.net.N.*) or the guest's files. */
  nicOwner: 'target' | 'guest';
  /** Archive formats this target's runtime accepts; the first is the default. */
  formats: readonly ArchiveFormat[];
  /**
   * What a format adds to the machine before it is resolved (a Vagrant box: the vagrant account and
   * sshd), so the guest plan, `vmgen render` and the build all see it. Its limits are the target's
   * `formatChecks`.
   */
  formatConfigs?: Partial<Record<ArchiveFormat, (config: VmConfig) => VmConfig>>;
  /** `layout` is given for VM targets: the disks their description files name. */
  render(spec: ResolvedSpec, options?: TargetOptions, layout?: VmLayout): TargetRender;
  /**
   * VM targets: the format their disks are cached in and patched per build; the closer to what
   * they ship, the less a warm build converts.
   */
  diskFormat?: DiskFormat;
  /**
   * VM targets: whether the description file can give a guest that needs them a TPM 2.0 and
   * Secure Boot (Windows 11). Without, Windows Setup is told to skip those checks.
   */
  platformSecurity?: PlatformSecurity;
  /** Host tools `package` runs for `format`; without it, what the archive format's packer runs. */
  hostTools?(format: ArchiveFormat): string[];
  package(ctx: PackageContext): Promise<Packed | void>;
  /**
   * Work for the archive that can start once the layer is there, while the guest is configured (a
   * container packs its layer's part); `package` waits for what it needs of it.
   */
  prepare?(ctx: PrepareContext): Promise<void>;
  /**
   * The exact commands that start what `package` made, for each of `formats`, in order: pure, so
   * `vmgen build`, the service's build record and the web page show the same.
   */
  run(ctx: RunContext): RunCommand[];
}

/**
 * A target's row in the registry: what validation, the CLI's choices, the schema and the web form
 * read. Its Commander (rendering, packing) is in the commander table (commanders.ts), which only
 * what renders, builds or runs loads: `vmgen validate` then loads no packaging code.
 */
export type Target = TargetLimits;

/** A target that can be built: its row with its commander. */
export type BuildableTarget = Target & { commander: Commander };
