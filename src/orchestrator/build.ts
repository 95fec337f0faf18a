import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { archivePath, partialArchivePath, publishArchive } from '../archive/publish.js';
import { LayerCache } from '../cache/store.js';
import { findOs } from '../catalog/load.js';
import type { Catalogs, OsEntry } from '../catalog/schema.js';
import { ChrootCommunicator } from '../communicators/chroot.js';
import { resolveSpec, type ResolvedSpec } from '../config/resolve.js';
import type { VmConfig } from '../config/model.js';
import { VmgenError } from '../errors.js';
import { applyPlan } from '../families/apply.js';
import { configuratorFor } from '../families/registry.js';
import type { Configurator, GuestContext } from '../families/types.js';
import { installerFor } from '../installers/registry.js';
import type { Installer } from '../installers/types.js';
import { runPipeline, type Step, type StepEvent } from './run-steps.js';
import { BUILDABLE_TARGET_IDS, findTarget } from '../targets/registry.js';
import type { ArchiveFormat, Commander, DiskImage, Target, TargetOptions, TargetRender } from '../targets/types.js';
import { buildDiskImages } from '../disks/disk-image.js';
import { ensureDiskSet, openCachedDisks, patchOpenedDisks, type OpenedDisks } from '../disks/disk-cache.js';
import { deltaBlocker, readOverlayDelta } from '../disks/overlay-delta.js';
import { resolveVmLayout, type VmLayout } from '../disks/layout.js';
import { layerInputs, type LayerInputs } from '../layers/inputs.js';
import { ensureLayer, type LayerResult } from '../layers/ensure.js';
import { mountLayer, type MountedRootfs } from '../layers/mount.js';
import { defaultMirror } from './mirror.js';
import { buildHostTools, checkHostTools } from './host-tools.js';
import { windowsFamilyBuild } from '../families/windows/build.js';

export interface BuildOptions {
  config: VmConfig;
  catalogs: Catalogs;
  target: string;
  format?: ArchiveFormat;
  targetOptions?: TargetOptions;
  outDir: string;
  cacheRoot: string;
  signal?: AbortSignal;
  onEvent?(e: StepEvent): void;
  /** Tool output and notes, one line at a time. */
  log?(line: string): void;
}

export interface BuildResult {
  archive: string;
  spec: ResolvedSpec;
  layer: LayerResult;
}

/** Everything the steps share; each step fills in what the next ones read. */
interface BuildState {
  spec: ResolvedSpec;
  target: Target & { commander: Commander };
  configurator: Configurator;
  installer: Installer;
  guest: GuestContext;
  /** Made before any step, so a guest a target cannot take fails before work starts. */
  inputs: LayerInputs;
  cache: LayerCache;
  format: ArchiveFormat;
  options: TargetOptions;
  outDir: string;
  log(line: string): void;
  workDir?: string;
  /** The target's generated text, made once in the hardware step. */
  targetRender?: TargetRender;
  layer?: LayerResult;
  rootfs?: MountedRootfs;
  /** VM targets: the disks to make, and the raw images once made. */
  layout?: VmLayout;
  images?: DiskImage[];
  /** VM targets: copies of the cached disk images being opened while the guest is configured. */
  openingDisks?: Promise<OpenedDisks>;
  partial?: string;
  archive?: string;
}

/**
 * The seed's build sequence (Listing 2.10) as typed steps: hardware → OS and applications → start →
 * configure → partitions (VMs: disks, file systems, bootloader) → stop and archive. Each step that holds a resource (a work directory, a mount,
 * a half-written archive) registers its undo, and the runner undoes them in reverse order however
 * the build ends.
 */
export const BUILD_STEPS: readonly Step<BuildState>[] = [
  {
    name: 'check host tools',
    run: ({ state }) => checkHostTools(buildHostTools({
      installer: state.installer, commander: state.target.commander, kind: state.target.kind, format: state.format,
      ...(state.layout ? { layout: state.layout } : {}),
    })),
  },
  {
    name: 'hardware: target configuration',
    run: ({ state }) => {
      state.targetRender = state.target.commander.render(state.spec, state.options, state.layout);
      state.log(`${state.target.label}: ${state.targetRender.archiveFiles.map((f) => f.path).join(', ')}`);
    },
  },
  {
    // The seed installed applications after configuring; here they go into the cached layer with
    // the OS, so a rebuild that changes only the configuration runs no package tool.
    name: 'OS and applications: root file system layer',
    run: async ({ state, signal }) => {
      if (state.spec.apps.length > 0) state.log(`applications: ${state.spec.apps.map((a) => a.name).join(', ')} (${state.spec.appPackages.join(' ')})`);
      const inputs = state.inputs;
      state.layer = await ensureLayer({
        source: { os: state.spec.os, mirror: state.spec.mirror },
        basePackages: inputs.basePackages,
        appPackages: inputs.appPackages,
        ...(inputs.prepare ? { prepare: inputs.prepare } : {}),
        ...(inputs.setupFiles.length > 0 ? { setupFiles: inputs.setupFiles } : {}),
      }, { cache: state.cache, installer: state.installer, signal, log: state.log });
      for (const e of state.layer.events) state.log(e);
    },
  },
  {
    name: 'start: mount the guest',
    run: async ({ state, signal, defer }) => {
      state.workDir = await state.cache.newWorkDir(`build-${state.spec.name}`);
      const workDir = state.workDir;
      defer(() => rm(workDir, { recursive: true, force: true }));
      state.rootfs = await mountLayer(state.layer!.rootfs, workDir, join(workDir, 'stage', 'rootfs'), signal);
      const mounted = state.rootfs;
      defer(() => mounted.release());
      state.log(`guest root: ${mounted.how === 'overlay' ? 'overlay on the cached layer' : 'copy of the cached layer'}`);
      const format = state.target.commander.diskFormat;
      if (state.layout && format !== undefined && mounted.lower !== undefined) {
        const disks = join(workDir, 'disks');
        await mkdir(disks, { recursive: true });
        const ctx = { layout: state.layout, workDir: disks, signal, log: state.log, defer };
        const lower = mounted.lower;
        const opening = ensureDiskSet({ ...ctx, cache: state.cache, layerKey: state.layer!.key, layerRootfs: lower, format })
          .then(({ set }) => openCachedDisks({ ...ctx, set }));
        // Awaited by the partitions step; should the build stop before that, its cleanup waits for
        // the disks and closes them (release is idempotent) before the work directory goes.
        opening.catch(() => {});
        defer(async () => {
          await (await opening.catch(() => undefined))?.release();
        });
        state.openingDisks = opening;
      }
    },
  },
  {
    name: 'configure: system, groups, users, network, firewall, services at boot',
    run: async ({ state, signal }) => {
      const comm = new ChrootCommunicator(state.rootfs!.path);
      const plan = state.configurator.plan(state.guest);
      await applyPlan(comm, { ...plan, files: [...plan.files, ...state.targetRender!.guestFiles] }, { signal, log: state.log });
    },
  },
  {
    name: 'partitions: disks, file systems, bootloader',
    applies: (s) => s.layout !== undefined,
    run: async ({ state, signal, defer }) => {
      const disks = join(state.workDir!, 'disks');
      await mkdir(disks, { recursive: true });
      const layout = state.layout!;
      const rootfs = state.rootfs!;
      const ctx = { layout, workDir: disks, signal, log: state.log, defer };
      if (state.openingDisks && rootfs.upper !== undefined && rootfs.lower !== undefined) {
        const opened = await state.openingDisks;
        const delta = await readOverlayDelta({ upper: rootfs.upper, lower: rootfs.lower, merged: rootfs.path });
        const blocker = deltaBlocker(delta, layout);
        if (blocker === undefined) {
          state.images = await patchOpenedDisks(opened, { layout, delta, upper: rootfs.upper, signal, log: state.log });
          return;
        }
        await opened.release();
        await Promise.all(opened.images.map((i) => rm(i.path, { force: true })));
        state.log(`the configuration changed /${blocker}, which cached disk images cannot take: making the disks from the configured root`);
      }
      const images = await buildDiskImages({ ...ctx, rootfs: rootfs.path });
      state.images = images.map((i) => ({ disk: i.disk, path: i.path, format: 'raw' }));
    },
  },
  {
    name: 'stop and archive',
    run: async ({ state, signal, defer, progress }) => {
      const partial = await partialArchivePath(state.outDir, state.spec.name);
      state.partial = partial;
      defer(() => rm(partial, { force: true }));
      await state.target.commander.package({
        ...(state.layout && state.images ? { vm: { layout: state.layout, images: state.images } } : {}),
        spec: state.spec, options: state.options, stageDir: join(state.workDir!, 'stage'), output: partial, format: state.format, signal,
        progress, ...(state.layer?.bytes === undefined ? {} : { expectedBytes: state.layer.bytes }),
      });
    },
  },
  {
    name: 'publish',
    run: async ({ state }) => {
      const final = archivePath(state.outDir, state.spec.name, state.target.id, state.format);
      await publishArchive(state.partial!, final);
      state.archive = final;
    },
  },
];

export interface FamilyBuildContext {
  spec: ResolvedSpec;
  target: Target & { commander: Commander };
  layout: VmLayout | undefined;
  format: ArchiveFormat;
}

/**
 * OS families whose guests are not made from a root file system layer, with the build each runs
 * instead of BUILD_STEPS; keyed by the OS table's family.
 */
const FAMILY_BUILDS: Partial<Record<OsEntry['family'], (opts: BuildOptions, ctx: FamilyBuildContext) => Promise<BuildResult>>> = {
  windows: windowsFamilyBuild,
};

export async function build(opts: BuildOptions): Promise<BuildResult> {
  const target = findTarget(opts.target);
  if (!target?.commander) throw new VmgenError('VMG_UNSUPPORTED', `target ${opts.target} cannot be built yet`, { hint: `buildable targets: ${BUILDABLE_TARGET_IDS.join(', ')}` });
  const commander = target.commander;
  const family = findOs(opts.catalogs, opts.config.hardware.os)?.family;
  const familyBuild = family === undefined ? undefined : FAMILY_BUILDS[family];
  // A family with its own build installs nothing from a package mirror.
  const mirror = opts.config.config.mirror ?? (familyBuild ? '' : defaultMirror(opts.catalogs, opts.config.hardware.os));
  const spec = resolveSpec(opts.config, opts.catalogs, { target: target.id, defaultMirror: mirror });
  const configurator = configuratorFor(spec.os.configurator);
  const installer = installerFor(spec.os.installer);
  if (!configurator || !installer) {
    throw new VmgenError('VMG_UNSUPPORTED', `${spec.os.label} guests cannot be built yet (no ${configurator ? 'installer' : 'configurator'} for it)`,
      { hint: 'Debian-family OSes (debian12-64, debian13-64) build today' });
  }
  const format = opts.format ?? commander.formats[0]!;
  if (!commander.formats.includes(format)) {
    throw new VmgenError('VMG_USAGE', `${target.label} archives are ${commander.formats.join(' or ')}, not ${format}`);
  }
  if (familyBuild) {
    const layout = target.kind === 'vm' ? resolveVmLayout(opts.config, spec.os, spec.name) : undefined;
    return familyBuild(opts, { spec, target: { ...target, commander }, layout, format }).catch((err: unknown) => {
      throw classifyBuildError(err, opts.signal);
    });
  }
  const layout = target.kind === 'vm' ? resolveVmLayout(opts.config, spec.os, spec.name) : undefined;
  const guest = { spec, nicOwner: commander.nicOwner };
  const state: BuildState = {
    spec, target: { ...target, commander }, configurator, installer, guest,
    inputs: layerInputs(configurator, guest, layout),
    cache: new LayerCache(opts.cacheRoot),
    format, options: opts.targetOptions ?? {}, outDir: resolve(opts.outDir),
    ...(layout ? { layout } : {}),
    log: opts.log ?? (() => {}),
  };
  try {
    await runPipeline(BUILD_STEPS, state, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) });
  } catch (err) {
    throw classifyBuildError(err, opts.signal);
  }
  return { archive: state.archive!, spec, layer: state.layer! };
}

/** Turns what the system says into what the user can act on. */
function classifyBuildError(err: unknown, signal?: AbortSignal): unknown {
  if (err instanceof VmgenError) return err;
  if (signal?.aborted) return new VmgenError('VMG_CANCELLED', 'the build was cancelled; nothing was left behind', { cause: err });
  const text = err instanceof Error ? `${err.message} ${(err as { stderr?: string }).stderr ?? ''}` : String(err);
  if (/ENOSPC|No space left on device/.test(text)) {
    return new VmgenError('VMG_DISK_FULL', 'no space left on device during the build; nothing was left behind',
      { hint: 'free space where the cache (VMGEN_CACHE_DIR) and the output directory live, or prune: vmgen cache prune', cause: err });
  }
  return new VmgenError('VMG_BUILD', err instanceof Error ? err.message : String(err), { cause: err });
}
