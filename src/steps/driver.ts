import type { ConfigSources } from '../config/sources.js';
import type { GuestPlan } from '../families/types.js';
import type { BaseDiskOptions, BaseDiskResult, GuestPayload } from '../families/windows/base-disk.js';
import type { Installer } from '../installers/types.js';
import type { BuiltDiskImage } from '../disks/disk-image.js';
import type { DiskImageContext } from '../disks/disk-tools.js';
import type { OpenedDisks } from '../disks/disk-cache.js';
import type { OverlayDelta, OverlayDirs } from '../disks/overlay-delta.js';
import type { VmLayout } from '../disks/layout.js';
import type { LayerDeps, LayerRequest, LayerResult } from '../layers/ensure.js';
import type { MountedRootfs } from '../layers/mount.js';
import type { BuildScript } from '../layers/sandbox.js';
import type { DiskFormat, DiskImage, Packed, PackageContext, Packer, PrepareContext } from '../targets/types.js';

/*
 * Packer's Driver: every operation of a build that touches disks, mounts or processes, behind one
 * interface. Steps decide what to do and call these; the real driver (real-driver.ts) does it, and
 * the orchestrator's unit tests hand the steps a fake that records the calls.
 */

export interface DriverContext {
  signal: AbortSignal;
  log(line: string): void;
}

export interface Driver {
  /** Fails before any work when a tool is missing (or root is needed and absent). */
  checkHostTools(tools: readonly string[], opts: { needRoot: boolean }): void;
  /** The root file system layer, from the cache when possible. */
  ensureLayer(req: LayerRequest, installer: Installer, ctx: DriverContext & Pick<LayerDeps, 'besidePrepare'>): Promise<LayerResult>;
  /** A fresh work directory under the cache root. */
  newWorkDir(prefix: string): Promise<string>;
  makeDir(path: string): Promise<void>;
  /** Removes a file or directory tree; absent is fine. */
  remove(path: string): Promise<void>;
  mountLayer(layerRootfs: string, workDir: string, mountPoint: string, signal: AbortSignal): Promise<MountedRootfs>;
  /** The cached disk images of a layer, made if missing, opened for patching. */
  openCachedDisks(req: { layout: VmLayout; workDir: string; layerKey: string; layerRootfs: string; format: DiskFormat }, ctx: DriverContext & { defer: DeferFn }): Promise<OpenedDisks>;
  /** Applies a configurator's plan to a mounted root through the chroot communicator. */
  applyGuestPlan(rootfs: string, plan: GuestPlan, ctx: DriverContext & { sources?: ConfigSources }): Promise<void>;
  /** Runs the build scripts in the mounted guest root, each in a sandbox without the host's privileges. */
  runBuildScripts(rootfs: MountedRootfs, scripts: readonly BuildScript[], ctx: DriverContext & { workDir: string }): Promise<void>;
  readOverlayDelta(dirs: OverlayDirs): Promise<OverlayDelta>;
  patchDisks(opened: OpenedDisks, req: { layout: VmLayout; delta: OverlayDelta; upper: string }, ctx: DriverContext): Promise<DiskImage[]>;
  buildDisks(ctx: DiskImageContext): Promise<BuiltDiskImage[]>;
  /** The target's packing of the staged guest or disks into its archive. */
  package(packer: Packer, ctx: PackageContext): Promise<Packed | void>;
  /** What the packer can do for its archive before the guest is configured (a fake driver may have none). */
  prepareArchive?(packer: Packer, ctx: Omit<PrepareContext, 'layerParts'>): Promise<void>;
  partialArchivePath(outDir: string, name: string): Promise<string>;
  publishArchive(partial: string, final: string): Promise<void>;
  /** Windows: the machine's disks cloned from the admin's base disk, with files written into its system volume. */
  cloneBaseDisk(opts: BaseDiskOptions): Promise<BaseDiskResult>;
  /** Windows: an empty (sparse) raw disk of `bytes`. */
  blankDisk(path: string, bytes: number): Promise<void>;
  /** Windows: files (text or copies of host files) written under `dir`. */
  writeFiles(dir: string, files: readonly GuestPayload[]): Promise<void>;
  /** Windows: an ISO 9660 image of `dir`, labelled `label`. */
  makeIso(dir: string, iso: string, label: string, signal: AbortSignal): Promise<void>;
}

export type DeferFn = (cleanup: () => void | Promise<void>) => void;
