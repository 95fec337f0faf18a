import type { Catalogs } from '../catalog/schema.js';
import type { ConfigSources } from '../config/sources.js';
import type { ResolvedSpec } from '../config/resolve.js';
import type { LocatedKit } from '../families/windows/kits.js';
import type { ProvisionPayload } from '../families/windows/provision.js';
import type { VmLayout } from '../disks/layout.js';
import type { LayerResult } from '../layers/ensure.js';
import type { ArchiveFormat, BuildableTarget, BuildBase, DiskImage, TargetOptions } from '../targets/types.js';
import type { Driver } from './driver.js';
import type { StepList } from './run-steps.js';

/*
 * The state of a build, by phase. Steps are closures over the plan (planBuild made them), so the
 * state holds only what steps make at run time, each field typed where a step returns it.
 */

/** A target that can be built (its row and its commander). */
export type { BuildableTarget };

/** What a build starts with, before its first step. */
export interface BuildInput {
  driver: Driver;
  outDir: string;
  log(line: string): void;
  /** The files beside the config that [files] and [scripts] name. */
  sources?: ConfigSources;
  /** The caller stores archives as parts: the archive's first part may be left apart (BuildResult.head). */
  headApart?: boolean;
}

/** What the root was made from: a root file system layer, or (Windows) disks made another way. */
export type BuiltRoot =
  | { kind: 'layer'; layer: LayerResult }
  | { kind: 'disk-image'; method: string; baseDisk?: string; events: string[] };

/** What the root phase (a family's or the layer steps) hands to the archive steps. */
export interface RootOutput {
  workDir: string;
  root: BuiltRoot;
  /** VM targets: the final layout (Windows adds its answer CD) and the images made from it. */
  vm?: { layout: VmLayout; images: DiskImage[] };
  /** Layer roots: the layer, the overlay's upper directory and the cached disk set the build stood on. */
  base?: BuildBase;
}

export type RootSteps = StepList<BuildInput, BuildInput & RootOutput>;

/** Facts a disk-image family needs from the host, found by the caller before planning. */
export interface RootFacts {
  /** The admin's base disk for this OS, when there is one. */
  baseDisk?: string;
  /** Every kit the apps need, located on the host. */
  kits?: LocatedKit[];
  /** The [files] and [scripts] sources read from beside the config, as guest files. */
  provision?: ProvisionPayload[];
}

/** What a family's disk-image root is planned from. */
export interface RootPlanInput {
  spec: ResolvedSpec;
  catalogs: Catalogs;
  target: BuildableTarget;
  format: ArchiveFormat;
  options: TargetOptions;
  layout: VmLayout | undefined;
  facts: RootFacts;
}

/** A disk-image family's part of a plan: its steps (between the target's configuration and the archive) and what they say. */
export interface DiskImageRootPlan {
  kind: 'disk-image';
  /** How the disks are made (base-disk, autounattend), for the log and the result. */
  method: string;
  /** Whether its steps need root on the build host. */
  needsRoot: boolean;
  steps(head: StepList<BuildInput>): RootSteps;
  /** What BuildResult.root says. */
  root: BuiltRoot;
  /** Lines for the build log before the first step (which method, from what). */
  notes: string[];
}
