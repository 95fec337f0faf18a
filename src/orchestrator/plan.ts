import { archiveHeadPath, archivePath } from '../archive/publish.js';
import { archiveTools } from '../archive/write.js';
import { findOs } from '../catalog/load.js';
import type { Catalogs } from '../catalog/schema.js';
import type { VmConfig } from '../config/model.js';
import { resolveSpec, type ResolvedSpec } from '../config/resolve.js';
import { VmgenError } from '../errors.js';
import type { Family, ReviewFile } from '../families/family.js';
import { FAMILIES } from '../families/registry.js';
import type { GuestContext, GuestPlan } from '../families/types.js';
import { installerFor } from '../installers/registry.js';
import type { Installer } from '../installers/types.js';
import { resolveVmLayout, type VmLayout } from '../disks/layout.js';
import { layerInputs, type LayerInputs } from '../layers/inputs.js';
import { buildableTarget } from '../targets/commanders.js';
import type { ArchiveFormat, Packer, TargetOptions, TargetRender } from '../targets/types.js';
import { VM_PACKAGE_TOOLS } from '../targets/vm/common.js';
import { layerSteps } from './layer-steps.js';
import type { BuildableTarget, BuildInput, DiskImageRootPlan, RootFacts, RootOutput } from '../steps/phases.js';
import { StepList } from '../steps/run-steps.js';

/*
 * What a build will do, computed without doing any of it (no files, no processes, no environment):
 * `vmgen build` applies it, `vmgen render` writes its files, the service checks a request with it
 * and shows its step names. Whatever needs the host (the default mirror, a base disk, the kits) is
 * found by the caller and passed in.
 */

/** The steps every build has, around its family's root steps. */
export const COMMON_STEPS = {
  check: 'check host tools',
  hardware: 'hardware: target configuration',
  archive: 'stop and archive',
  publish: 'publish',
} as const;

export interface PlanOptions {
  /** The mirror when the config names none; build() passes the host's own, render a placeholder. */
  defaultMirror?: string;
  format?: ArchiveFormat;
  targetOptions?: TargetOptions;
  /** What a disk-image family found on the host (Family.root.findFacts). */
  facts?: RootFacts;
  /** Packs the archive instead of the target's Commander (a lab's member: src/lab). */
  packer?: Packer;
}

/** A root made from a root file system layer: the installer that makes it and what goes into it. */
export interface LayerRootPlan {
  kind: 'layer';
  installer: Installer;
  guest: GuestContext;
  inputs: LayerInputs;
  /** The configurator's plan, applied to the mounted root in the configure step. */
  guestPlan: GuestPlan;
}

export interface PlannedStep {
  name: string;
  /** The host tools it runs. */
  tools: readonly string[];
  /** Nothing to do in this build (a container has no disks; Windows makes its disks one way). */
  skipped: boolean;
}

/** `head`: with BuildInput.headApart, the archive's first part when the packer left it apart. */
export type FinalState = BuildInput & RootOutput & { archive: string; head?: string };

export interface BuildPlan {
  spec: ResolvedSpec;
  target: BuildableTarget;
  format: ArchiveFormat;
  options: TargetOptions;
  family: Family;
  /** VM targets: the disks, controllers and firmware. */
  layout: VmLayout | undefined;
  /** The target's generated files (configuration, VM description) and what it puts in the guest. */
  targetRender: TargetRender;
  /**
   * Files the family adds for review (`vmgen render`); made on demand, since they may show what a
   * build does not make (the answer file of a release built from a base disk).
   */
  reviewFiles(): ReviewFile[];
  root: LayerRootPlan | DiskImageRootPlan;
  steps: PlannedStep[];
  /** Every host tool of the steps that run: what the first step checks. */
  tools: string[];
  needsRoot: boolean;
  /** Lines for the build log before the first step. */
  notes: string[];
  /** The steps, for build() to run. */
  run: StepList<BuildInput, FinalState>;
}

/** The family row of the config's OS, when the OS is in the catalogs. */
export function familyFor(config: VmConfig, catalogs: Catalogs): Family | undefined {
  const os = findOs(catalogs, config.hardware.os);
  return os === undefined ? undefined : FAMILIES[os.family];
}

export function planBuild(config: VmConfig, catalogs: Catalogs, targetId: string, options: PlanOptions = {}): BuildPlan {
  const target = buildableTarget(targetId);
  const { commander } = target;
  const format = options.format ?? commander.formats[0];
  if (format === undefined || !commander.formats.includes(format)) {
    throw new VmgenError('VMG_USAGE', `${target.label} archives are ${commander.formats.join(' or ')}, not ${format}`);
  }
  const machine = commander.formatConfigs?.[format]?.(config) ?? config;
  const spec = resolveSpec(machine, catalogs, { target: target.id, defaultMirror: options.defaultMirror ?? '' });
  const family = FAMILIES[spec.os.family];
  const targetOptions = options.targetOptions ?? {};
  const layout = target.kind === 'vm' ? resolveVmLayout(machine, spec.os, spec.name) : undefined;
  // What the first step checks: every tool of the steps that run, known once they are listed.
  const check = { tools: [] as string[], needRoot: true };
  let root: LayerRootPlan | DiskImageRootPlan;
  if (family.root.kind === 'layer') {
    const installer = installerFor(spec.os.installer);
    if (!installer) {
      throw new VmgenError('VMG_UNSUPPORTED', `${spec.os.label} guests cannot be built yet (no installer for it)`,
        { hint: 'Debian-family OSes (debian12-64, debian13-64) build today' });
    }
    const guest: GuestContext = { spec, nicOwner: commander.nicOwner };
    // Made before any step, so a guest a target cannot take fails before work starts.
    const inputs = layerInputs(family.configurator, family.root.vmKernel, guest, layout);
    root = { kind: 'layer', installer, guest, inputs, guestPlan: family.configurator.plan(guest) };
  } else {
    root = family.root.plan({ spec, catalogs, target, format, options: targetOptions, layout, facts: options.facts ?? {} });
  }
  const targetRender = commander.render(spec, targetOptions, layout);
  const packer: Packer = options.packer ?? commander;
  const head = StepList.start<BuildInput>()
    .then({ name: COMMON_STEPS.check, run: ({ state }) => state.driver.checkHostTools(check.tools, { needRoot: check.needRoot }) })
    .then({
      name: COMMON_STEPS.hardware,
      run: ({ state }) => state.log(`${target.label}: ${targetRender.archiveFiles.map((f) => f.path).join(', ')}`),
    });
  const rootSteps = root.kind === 'layer'
    ? layerSteps(head, { spec, target, layout, installer: root.installer, inputs: root.inputs, guestPlan: root.guestPlan, targetRender, packer, format })
    : root.steps(head);
  const run = rootSteps
    .then({
      name: COMMON_STEPS.archive,
      tools: [...(packer.hostTools?.(format) ?? archiveTools(format)), ...(layout === undefined ? [] : VM_PACKAGE_TOOLS)],
      run: async ({ state, signal, defer, progress }) => {
        const partial = await state.driver.partialArchivePath(state.outDir, spec.name);
        defer(() => state.driver.remove(partial));
        const headPath = state.headApart ? archiveHeadPath(partial) : undefined;
        if (headPath !== undefined) defer(() => state.driver.remove(headPath));
        const stageDir = `${state.workDir}/stage`;
        await state.driver.makeDir(stageDir);
        const expectedBytes = state.root.kind === 'layer' ? state.root.layer.bytes : undefined;
        const packed = await state.driver.package(packer, {
          ...(state.vm ? { vm: state.vm } : {}),
          ...(state.base ? { base: state.base } : {}),
          spec, options: targetOptions, stageDir, output: partial, format, signal, progress, log: state.log,
          ...(expectedBytes === undefined ? {} : { expectedBytes }),
          ...(headPath === undefined ? {} : { headPath }),
        });
        return { partial, ...(packed?.headApart && headPath !== undefined ? { partialHead: headPath } : {}) };
      },
    })
    .then({
      name: COMMON_STEPS.publish,
      run: async ({ state }) => {
        const archive = archivePath(state.outDir, spec.name, target.id, format);
        await state.driver.publishArchive(state.partial, archive);
        if (state.partialHead === undefined) return { archive };
        await state.driver.publishArchive(state.partialHead, archiveHeadPath(archive));
        return { archive, head: archiveHeadPath(archive) };
      },
    });
  const steps: PlannedStep[] = run.steps.map((step) => ({ name: step.name, tools: step.tools ?? [], skipped: step.skip === true }));
  check.tools = [...new Set(steps.flatMap((step) => (step.skipped ? [] : step.tools)))];
  check.needRoot = root.kind === 'layer' || root.needsRoot;
  return {
    spec, target, format, options: targetOptions, family, layout, targetRender,
    reviewFiles: () => family.reviewFiles?.({ spec, catalogs, layout, offers: commander.platformSecurity }) ?? [],
    root, steps, tools: check.tools, needsRoot: check.needRoot,
    notes: root.kind === 'layer' ? [] : root.notes,
    run,
  };
}
