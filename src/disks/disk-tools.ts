import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VmgenError } from '../errors.js';
import { CommandError, run } from '../exec/run.js';
import { packageOf } from '../exec/tools.js';
import type { VmDisk, VmLayout, VmPartition } from './layout.js';

/*
 * What building disk images and patching cached ones share: the build context, a release stack for
 * loop devices and mounts, and running a host tool with an install hint.
 */

/** What building a layout's disk images works from; `defer` registers a cleanup that runs even after a failure. */
export interface DiskImageContext {
  layout: VmLayout;
  rootfs: string;
  workDir: string;
  signal: AbortSignal;
  log(line: string): void;
  defer(cleanup: () => Promise<void> | void): void;
}

/** What the loop device and mount helpers need, which patching cached images shares. */
export type DiskToolContext = Pick<DiskImageContext, 'signal' | 'log' | 'workDir'>;

/** Releases resources newest first; a release that fails stays listed so a later call retries it. */
export class Releases {
  private readonly stack: Array<{ what: string; fn: () => Promise<void> }> = [];

  add(what: string, fn: () => Promise<void>): void {
    this.stack.push({ what, fn });
  }

  async releaseAll(): Promise<void> {
    const failed: Array<{ what: string; fn: () => Promise<void> }> = [];
    const errors: unknown[] = [];
    while (this.stack.length > 0) {
      const entry = this.stack.pop()!;
      try {
        await entry.fn();
      } catch (error) {
        failed.unshift(entry);
        errors.push(error);
      }
    }
    this.stack.push(...failed);
    if (failed.length > 0) throw new AggregateError(errors, `could not release ${failed.map((f) => f.what).join(', ')}`);
  }
}

/** A partition of an attached disk: its config, its block device and the id its file system gets. */
export interface AttachedPartition {
  disk: VmDisk;
  partition: VmPartition;
  device: string;
  id: string;
  sizeMiB: number;
}

/** Runs a host tool, turning "not installed" into an error that names the package to install. */
export async function tool(ctx: Pick<DiskImageContext, 'signal'>, argv: [string, ...string[]], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  try {
    return (await run(argv, { signal: ctx.signal, ...opts })).stdout;
  } catch (err) {
    if (err instanceof CommandError && err.exitCode === null && err.signal === null && !ctx.signal.aborted) {
      throw new VmgenError('VMG_TOOL_MISSING', `cannot run ${argv[0]}`, { hint: `apt-get install ${packageOf(argv[0])}`, cause: err });
    }
    throw err;
  }
}

export async function removeTree(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}


/**
 * Copies a directory's entries to the root of a FAT file system with mtools, which needs no kernel
 * driver (this project's build hosts have none). MTOOLS_SKIP_CHECK: a partition has no floppy geometry.
 */
export async function copyIntoFat(ctx: DiskImageContext, device: string, dir: string): Promise<void> {
  const entries = existsSync(dir) ? (await readdir(dir)).sort() : [];
  if (entries.length === 0) return;
  await tool(ctx, ['mcopy', '-s', '-Q', '-m', '-i', device, ...entries.map((e) => join(dir, e)), '::/'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
}
