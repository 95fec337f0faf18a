import { resolve } from 'node:path';
import type { Catalogs } from '../catalog/schema.js';
import { resolveSpec } from '../config/resolve.js';
import type { ResolvedSpec } from '../config/resolve.js';
import type { VmConfig } from '../config/model.js';
import type { ConfigSources } from '../config/sources.js';
import { VmgenError } from '../errors.js';
import type { ArchiveFormat, Packer, TargetOptions } from '../targets/types.js';
import type { Driver } from '../steps/driver.js';
import { defaultMirror } from './mirror.js';
import type { BuiltRoot, RootFacts } from '../steps/phases.js';
import { familyFor, planBuild } from './plan.js';
import { buildableTarget } from '../targets/commanders.js';
import { realDriver } from './real-driver.js';
import type { StepEvent } from '../steps/run-steps.js';

export interface BuildOptions {
  config: VmConfig;
  catalogs: Catalogs;
  /** The files beside the config ([files] and [scripts] sources): a directory (CLI) or a request's files (service). */
  sources?: ConfigSources;
  target: string;
  format?: ArchiveFormat;
  targetOptions?: TargetOptions;
  outDir: string;
  cacheRoot: string;
  signal?: AbortSignal;
  onEvent?(e: StepEvent): void;
  /** Tool output and notes, one line at a time. */
  log?(line: string): void;
  /** What touches disks and processes; the real one by default, a fake in the orchestrator's tests. */
  driver?: Driver;
  /** Where the Windows kit and base disk directories are looked up when the options name none. */
  env?: NodeJS.ProcessEnv;
  /** Packs the archive instead of the target's Commander: a lab's member packs only its own part (src/lab). */
  packer?: Packer;
  /**
   * The caller stores archives as parts (the service): a container's cached layer part may be left
   * apart as `head` (a link to the cache's file) instead of copied into the archive.
   */
  headApart?: boolean;
}

export interface BuildResult {
  archive: string;
  /** With BuildOptions.headApart: the archive's first part, when it was left apart; `archive` is then the rest. */
  head?: string;
  spec: ResolvedSpec;
  /** What the root was made from: the layer, or (Windows) the disks' method. */
  root: BuiltRoot;
}

/**
 * A build: find what the plan needs from the host (the default mirror; a Windows base disk and
 * kits), plan (pure), then run the plan's steps on the one step runner. The runner undoes every
 * step's resources in reverse order however the build ends.
 */
export async function build(opts: BuildOptions): Promise<BuildResult> {
  const target = buildableTarget(opts.target);
  const family = familyFor(opts.config, opts.catalogs);
  const diskImage = family?.root.kind === 'disk-image' ? family.root : undefined;
  // A family whose root is not a layer installs nothing from a package mirror.
  const mirror = opts.config.config.mirror ?? (diskImage ? '' : defaultMirror(opts.catalogs, opts.config.hardware.os));
  const targetOptions = opts.targetOptions ?? {};
  let facts: RootFacts = {};
  if (diskImage) {
    const spec = resolveSpec(opts.config, opts.catalogs, { target: target.id, defaultMirror: mirror });
    facts = await diskImage.findFacts({ spec, catalogs: opts.catalogs, target, options: targetOptions, env: opts.env ?? process.env, ...(opts.sources ? { sources: opts.sources } : {}) });
  }
  const plan = planBuild(opts.config, opts.catalogs, target.id, {
    defaultMirror: mirror, targetOptions, facts, ...(opts.format ? { format: opts.format } : {}), ...(opts.packer ? { packer: opts.packer } : {}),
  });
  const log = opts.log ?? (() => {});
  for (const note of plan.notes) log(note);
  try {
    const done = await plan.run.run(
      {
        driver: opts.driver ?? realDriver(opts.cacheRoot), outDir: resolve(opts.outDir), log,
        ...(opts.sources ? { sources: opts.sources } : {}), ...(opts.headApart ? { headApart: true } : {}),
      },
      { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) },
    );
    return { archive: done.archive, ...(done.head === undefined ? {} : { head: done.head }), spec: plan.spec, root: done.root };
  } catch (err) {
    throw classifyBuildError(err, opts.signal);
  }
}

/** Turns what the system says into what the user can act on. */
export function classifyBuildError(err: unknown, signal?: AbortSignal): unknown {
  if (err instanceof VmgenError) return err;
  if (signal?.aborted) return new VmgenError('VMG_CANCELLED', 'the build was cancelled; nothing was left behind', { cause: err });
  const text = err instanceof Error ? `${err.message} ${(err as { stderr?: string }).stderr ?? ''}` : String(err);
  if (/ENOSPC|No space left on device/.test(text)) {
    return new VmgenError('VMG_DISK_FULL', 'no space left on device during the build; nothing was left behind',
      { hint: 'free space where the cache (VMGEN_CACHE_DIR) and the output directory live, or prune: vmgen cache prune', cause: err });
  }
  return new VmgenError('VMG_BUILD', err instanceof Error ? err.message : String(err), { cause: err });
}
