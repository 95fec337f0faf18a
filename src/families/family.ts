import type { ConfigSources } from '../config/sources.js';
import type { Catalogs } from '../catalog/schema.js';
import type { FamilyId } from '../catalog/families.js';
import type { ResolvedSpec } from '../config/resolve.js';
import type { VmLayout } from '../disks/layout.js';
import type { DiskImageRootPlan, RootFacts, RootPlanInput } from '../steps/phases.js';
import type { TargetOptions } from '../targets/types.js';
import type { FamilyChecks } from './check-kit.js';
import type { PlatformSecurity } from './platform-security.js';
import type { Configurator, ReviewFile, VmKernel } from './types.js';

export type { ReviewFile } from './types.js';

/*
 * One OS family, everything about it in one row (mkosi keeps a distribution in one class):
 * its configurator, how its root is made, the files `vmgen render` adds for review and its
 * `vmgen verify` checks. The rows are listed in src/families/registry.ts.
 */

export interface ReviewInput {
  spec: ResolvedSpec;
  catalogs: Catalogs;
  layout: VmLayout | undefined;
  /** What the target's commander can give a guest (TPM, Secure Boot); an answer file skips the checks it cannot. */
  offers: PlatformSecurity | undefined;
}

/** The root is a root file system layer made by the OS entry's package installer (apt, dnf, yum). */
export interface LayerRoot {
  kind: 'layer';
  /** What a VM of this family needs beyond a container's root; absent: the family builds containers only. */
  vmKernel?: VmKernel;
}

/** The root is a set of disk images the family makes its own way (Windows: a base disk, or Windows Setup). */
export interface DiskImageRoot {
  kind: 'disk-image';
  /** Finds what the plan needs from the build host (base disk, kits), failing before any step when something is missing. */
  findFacts(input: { spec: ResolvedSpec; catalogs: Catalogs; target: { kind: 'container' | 'vm'; label: string }; options: TargetOptions; env: NodeJS.ProcessEnv; sources?: ConfigSources }): Promise<RootFacts>;
  /** Pure: the family's steps and what they say, from the facts found. */
  plan(input: RootPlanInput): DiskImageRootPlan;
}

export interface Family {
  id: FamilyId;
  configurator: Configurator;
  root: LayerRoot | DiskImageRoot;
  /** Files `vmgen render` writes beyond the configurator's plan (Windows: setup.bat, the answer media). */
  reviewFiles?(input: ReviewInput): ReviewFile[];
  /** How `vmgen verify` checks a running guest of this family; absent: it cannot. */
  checks?: FamilyChecks;
}
