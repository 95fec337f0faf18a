import type { ResolvedSpec } from '../config/resolve.js';
import type { GuestFile } from '../guests/types.js';
import type { TargetLimits } from './limits.js';

export const ARCHIVE_FORMATS = ['tar.zst', 'tar.gz', 'tar', 'zip'] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

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
}

export interface PackageContext {
  spec: ResolvedSpec;
  options: TargetOptions;
  /** Scratch directory of this build; holds `rootfs/` (the configured guest) and nothing else yet. */
  stageDir: string;
  /** Path to write the finished archive to; the caller renames it into place. */
  output: string;
  format: ArchiveFormat;
  signal: AbortSignal;
  /** Size of the root file system, when known, for progress. */
  expectedBytes?: number;
  progress(fraction: number): void;
}

/** The seed's Commander for one target: what it generates and how it packs the result. */
export interface Commander {
  /** Who configures the NICs: the target's own config (lxc.net.N.*) or the guest's files. */
  nicOwner: 'target' | 'guest';
  /** Archive formats this target's runtime accepts; the first is the default. */
  formats: readonly ArchiveFormat[];
  /** Packages the target needs in the guest (none for most). */
  packages?(spec: ResolvedSpec): string[];
  render(spec: ResolvedSpec, options?: TargetOptions): TargetRender;
  package(ctx: PackageContext): Promise<void>;
}

export interface Target extends TargetLimits {
  /** Undefined for targets that cannot be built yet. */
  commander?: Commander;
}
