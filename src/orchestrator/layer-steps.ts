import { join } from 'node:path';
import { CACHE_TOOLS } from '../cache/store.js';
import { ChrootCommunicator } from '../communicators/chroot.js';
import type { ResolvedSpec } from '../config/resolve.js';
import type { GuestPlan } from '../families/types.js';
import type { Installer } from '../installers/types.js';
import { DISK_CACHE_TOOLS } from '../disks/disk-cache.js';
import { diskImageTools } from '../disks/disk-image.js';
import { deltaBlocker } from '../disks/overlay-delta.js';
import type { VmLayout } from '../disks/layout.js';
import type { UnpublishedLayer } from '../layers/ensure.js';
import type { LayerInputs } from '../layers/inputs.js';
import { MOUNT_TOOLS } from '../layers/mount.js';
import type { BuildScript } from '../layers/sandbox.js';
import { SANDBOX_TOOLS } from '../layers/sandbox-argv.js';
import type { ConfigSources } from '../config/sources.js';
import { VmgenError } from '../errors.js';
import type { BuildableTarget, BuildInput, RootSteps } from '../steps/phases.js';
import type { StepList } from '../steps/run-steps.js';
import type { ArchiveFormat, Packer, TargetRender } from '../targets/types.js';

/** The layer steps' names, as the build log and the service show them. */
export const LAYER_STEPS = {
  layer: 'OS and applications: root file system layer',
  start: 'start: mount the guest',
  configure: 'configure: system, groups, users, network, firewall, services at boot',
  scripts: 'build scripts: the config\'s commands in the guest, in a sandbox',
  partitions: 'partitions: disks, file systems, bootloader',
} as const;

/** What the layer steps are planned from. */
export interface LayerStepsInput {
  spec: ResolvedSpec;
  target: BuildableTarget;
  layout: VmLayout | undefined;
  installer: Installer;
  inputs: LayerInputs;
  guestPlan: GuestPlan;
  targetRender: TargetRender;
  /** Who packs the archive, and in which format: it may start on it once the layer is there. */
  packer: Packer;
  format: ArchiveFormat;
}

/**
 * The root phase of every family whose root is a root file system layer (the seed's Listing 2.10):
 * OS and applications → start → configure → partitions (VMs: disks, file systems, bootloader).
 * Each step that holds a resource (a mount, opened disks) registers its undo.
 */
export function layerSteps(head: StepList<BuildInput>, p: LayerStepsInput): RootSteps {
  const { spec, layout } = p;
  const diskFormat = p.target.commander.diskFormat;
  return head
    .then({
      // The seed installed applications after configuring; here they go into the cached layer with
      // the OS, so a rebuild that changes only the configuration runs no package tool.
      name: LAYER_STEPS.layer,
      tools: [...CACHE_TOOLS, ...p.installer.hostTools],
      run: async ({ state, signal }) => {
        if (spec.apps.length > 0) state.log(`applications: ${spec.apps.map((a) => a.name).join(', ')} (${spec.appPackages.join(' ')})`);
        const { inputs } = p;
        const { driver } = state;
        // A layer made now is prepared (locales) with its archive part packed beside it.
        const besidePrepare = driver.prepareArchive === undefined ? {} : {
          besidePrepare: (made: UnpublishedLayer, s: AbortSignal) => driver.prepareArchive!(p.packer, {
            layerKey: made.key, layerRootfs: made.rootfs, format: p.format, signal: s, log: state.log, unpublished: { parts: made.parts, writes: made.writes, prepared: made.prepared },
          }),
        };
        const layer = await driver.ensureLayer({
          source: { os: spec.os, mirror: spec.mirror },
          basePackages: inputs.basePackages,
          appPackages: inputs.appPackages,
          ...(inputs.prepare ? { prepare: inputs.prepare } : {}),
          ...(inputs.setupFiles.length > 0 ? { setupFiles: inputs.setupFiles } : {}),
        }, p.installer, { signal, log: state.log, ...besidePrepare });
        for (const e of layer.events) state.log(e);
        return { layer, root: { kind: 'layer' as const, layer } };
      },
    })
    .then({
      name: LAYER_STEPS.start,
      tools: [...MOUNT_TOOLS, ...(layout !== undefined && diskFormat !== undefined ? DISK_CACHE_TOOLS : [])],
      run: async ({ state, signal, defer }) => {
        const { driver } = state;
        const workDir = await driver.newWorkDir(`build-${spec.name}`);
        defer(() => driver.remove(workDir));
        const rootfs = await driver.mountLayer(state.layer.rootfs, workDir, join(workDir, 'stage', 'rootfs'), signal);
        defer(() => rootfs.release());
        state.log(`guest root: ${rootfs.how === 'overlay' ? 'overlay on the cached layer' : 'copy of the cached layer'}`);
        if (rootfs.upper !== undefined && driver.prepareArchive) {
          // Runs beside the configuration; the archive step waits for what it needs of it, and a
          // build that stops first waits for it to stop before its undos.
          const preparing = driver.prepareArchive(p.packer, { layerKey: state.layer.key, layerRootfs: state.layer.rootfs, format: p.format, signal, log: state.log });
          preparing.catch(() => {});
          defer(() => preparing.catch(() => {}));
        }
        const base = { layerKey: state.layer.key, layerRootfs: state.layer.rootfs, ...(rootfs.upper === undefined ? {} : { upper: rootfs.upper }) };
        if (layout === undefined || diskFormat === undefined || rootfs.lower === undefined) return { workDir, rootfs, base };
        const disks = join(workDir, 'disks');
        await driver.makeDir(disks);
        const openingDisks = driver.openCachedDisks(
          { layout, workDir: disks, layerKey: state.layer.key, layerRootfs: rootfs.lower, format: diskFormat },
          { signal, log: state.log, defer },
        );
        // Awaited by the partitions step; should the build stop before that, its cleanup waits for
        // the disks and closes them (release is idempotent) before the work directory goes.
        openingDisks.catch(() => {});
        defer(async () => {
          await (await openingDisks.catch(() => undefined))?.release();
        });
        return { workDir, rootfs, openingDisks, base };
      },
    })
    .then({
      name: LAYER_STEPS.configure,
      tools: ChrootCommunicator.TOOLS,
      run: async ({ state, signal }) => {
        const plan = { ...p.guestPlan, files: [...p.guestPlan.files, ...p.targetRender.guestFiles] };
        await state.driver.applyGuestPlan(state.rootfs.path, plan, { signal, log: state.log, ...(state.sources ? { sources: state.sources } : {}) });
      },
    })
    .then({
      name: LAYER_STEPS.scripts,
      tools: [...SANDBOX_TOOLS, ...MOUNT_TOOLS],
      skip: buildScripts(spec).length === 0,
      run: async ({ state, signal }) => {
        const scripts = buildScripts(spec).map((s) => withText(s, state.sources));
        await state.driver.runBuildScripts(state.rootfs, scripts, { signal, log: state.log, workDir: state.workDir });
        return {};
      },
    })
    .then({
      name: LAYER_STEPS.partitions,
      tools: layout === undefined ? [] : diskImageTools(layout),
      skip: layout === undefined,
      run: async ({ state, signal, defer }) => {
        if (layout === undefined) return {};
        const { driver, rootfs } = state;
        const disks = join(state.workDir, 'disks');
        await driver.makeDir(disks);
        const ctx = { signal, log: state.log };
        if (state.openingDisks && rootfs.upper !== undefined && rootfs.lower !== undefined) {
          const opened = await state.openingDisks;
          const delta = await driver.readOverlayDelta({ upper: rootfs.upper, lower: rootfs.lower, merged: rootfs.path });
          const blocker = deltaBlocker(delta, layout);
          if (blocker === undefined) {
            const images = await driver.patchDisks(opened, { layout, delta, upper: rootfs.upper }, ctx);
            return { vm: { layout, images }, base: { ...state.base, disks: { key: opened.set.key, dir: opened.set.dir, files: opened.set.files } } };
          }
          await opened.release();
          await Promise.all(opened.images.map((i) => driver.remove(i.path)));
          state.log(`the configuration changed /${blocker}, which cached disk images cannot take: making the disks from the configured root`);
        }
        const images = await driver.buildDisks({ layout, workDir: disks, rootfs: rootfs.path, signal, log: state.log, defer });
        return { vm: { layout, images: images.map((i) => ({ disk: i.disk, path: i.path, format: 'raw' as const })) } };
      },
    });
}

type ScriptEntry = ResolvedSpec['provision']['scripts'][number];

function buildScripts(spec: ResolvedSpec): ScriptEntry[] {
  return spec.provision.scripts.filter((s) => s.when === 'build');
}

/** The script's text: its `run`, or its source file read through the build's sources. */
function withText(s: ScriptEntry, sources: ConfigSources | undefined): BuildScript {
  const key = s.from.kind === 'inline' ? 'run' : 'source';
  if (s.from.kind === 'inline') return { id: s.id, at: [...s.path, key], text: s.from.content, network: s.network };
  if (sources?.stat(s.from.source)?.kind !== 'file') {
    throw new VmgenError('VMG_BUILD', `build script '${s.id}': '${s.from.source}' is not a file beside the config`, { at: [...s.path, key] });
  }
  return { id: s.id, at: [...s.path, key], text: sources.readFile(s.from.source), network: s.network };
}
