import type { OsEntry } from '../catalog/schema.js';
import type { GuestFile } from '../families/types.js';

/** What a layer is made from: everything that goes into its cache key. */
export interface LayerSource {
  os: OsEntry;
  mirror: string;
  packages: string[];
  /** Files placed in the root before any package is installed (initramfs-tools settings). */
  setupFiles?: GuestFile[];
}

export interface InstallContext {
  /** The shared package pool, so a package is downloaded once for all builds. */
  debsDir: string;
  signal: AbortSignal;
  /** One line of the tool's own progress ("Retrieving…", "Unpacking…"). */
  log(line: string): void;
}

/** The seed's Installer family: one per package tool that makes a root file system (apt, dnf, yum); Windows kits belong to the Windows family. */
export interface Installer {
  id: string;
  /** The build host's programs it runs, checked before a build starts. */
  hostTools: readonly string[];
  /** Makes a root file system holding `source.packages` from nothing, in `rootfs` (an empty dir). */
  bootstrap(source: LayerSource, rootfs: string, ctx: InstallContext): Promise<void>;
  /** Adds packages to an existing root file system made by `bootstrap`. */
  install(source: LayerSource, rootfs: string, packages: readonly string[], ctx: InstallContext): Promise<void>;
}
