import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { VmgenError } from '../errors.js';
import { spawnStream } from '../exec/stream.js';
import type { VmLayout } from './layout.js';
import { filesystem } from '../catalog/filesystems.js';
import { copyError } from './disk-image.js';

/**
 * What a build changed on top of its cached layer, read from the overlay mount it configured the
 * guest in: the upper directory holds every file and directory written, and a name the lower
 * layer has but the merged view lacks was deleted (a whiteout, or a directory made opaque). So a
 * cached disk image made from the layer becomes this build's disk by applying just this.
 */
export interface OverlayDelta {
  /** Paths relative to the root, to remove from the image first (deleted, or replaced by another kind of file). */
  deletions: string[];
  /** Paths relative to the root, parents before children, to copy from the upper directory. */
  copies: string[];
  /**
   * The copies that replace a file (not a directory) the lower layer has under the same name: an
   * archive that holds the layer's members and then the build's would hold both, and tar does not
   * always keep the later one (a symlink over a symlink), so the layer's is left out.
   */
  overwritten: string[];
}

export interface OverlayDirs {
  upper: string;
  lower: string;
  merged: string;
}

const isWhiteout = (st: { isCharacterDevice(): boolean; rdev: number }): boolean => st.isCharacterDevice() && st.rdev === 0;

export async function readOverlayDelta(dirs: OverlayDirs): Promise<OverlayDelta> {
  const deletions = new Set<string>();
  const copies: string[] = [];
  const overwritten: string[] = [];
  const deletedBelow = async (rel: string): Promise<void> => {
    const [lowerNames, mergedNames] = await Promise.all([readdir(join(dirs.lower, rel)), readdir(join(dirs.merged, rel))]);
    const present = new Set(mergedNames);
    for (const name of lowerNames) if (!present.has(name)) deletions.add(rel === '' ? name : `${rel}/${name}`);
  };
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(dirs.upper, rel))).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(join(dirs.upper, path));
      if (isWhiteout(st)) {
        deletions.add(path);
        continue;
      }
      const low = await lstat(join(dirs.lower, path)).catch(() => undefined);
      if (low && low.isDirectory() !== st.isDirectory()) deletions.add(path);
      else if (low && !st.isDirectory()) overwritten.push(path);
      copies.push(path);
      if (st.isDirectory()) {
        if (low?.isDirectory()) await deletedBelow(path);
        await walk(path);
      }
    }
  };
  await deletedBelow('');
  await walk('');
  return { deletions: [...deletions].sort(), copies, overwritten };
}

/**
 * The first changed path a cached disk image cannot take by copying into its mounted file
 * systems, or undefined. /boot is baked into the bootloader (the ESP holds copies of the kernel
 * and initrd, extlinux's config names them), and vfat or ntfs partitions are never mounted.
 */
export function deltaBlocker(delta: OverlayDelta, layout: VmLayout): string | undefined {
  const fenced = ['boot', ...layout.disks.flatMap((d) => d.partitions)
    .filter((p) => p.mount !== undefined && !filesystem(p.fs).mountable)
    .map((p) => p.mount!.replace(/^\/+/, ''))];
  const under = (path: string): boolean => fenced.some((f) => path === f || path.startsWith(`${f}/`));
  return [...delta.deletions, ...delta.copies].find(under);
}

/** Whether `rel` below `root` reaches its last component through real directories only (no symlink to follow out). */
async function throughDirectories(root: string, rel: string): Promise<boolean> {
  const parts = rel.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const st = await lstat(join(root, ...parts.slice(0, i))).catch(() => undefined);
    if (!st?.isDirectory()) return false;
  }
  return true;
}

/**
 * Applies a delta to the guest's file systems mounted at `target`: removals first, then the
 * upper directory's entries with tar (numeric owners, modes, xattrs, ACLs, hard links), leaving
 * out overlayfs's own bookkeeping attributes.
 */
export async function applyOverlayDelta(delta: OverlayDelta, upper: string, target: string, signal: AbortSignal): Promise<void> {
  for (const path of delta.deletions) {
    if (!(await throughDirectories(target, path))) {
      throw new VmgenError('VMG_BUILD', `cannot remove /${path} from the disk image: a parent directory is not a directory there`);
    }
    await rm(join(target, path), { recursive: true, force: true });
  }
  if (delta.copies.length === 0) return;
  const common = ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--xattrs-exclude=trusted.overlay.*', '--acls'];
  const source = spawnStream(['tar', '-C', upper, ...common, '--no-recursion', '--null', '-T', '-', '-cf', '-'], { signal });
  const sink = spawnStream(['tar', '-C', target, ...common, '-xpf', '-'], { signal });
  source.stdin.end(delta.copies.map((p) => `./${p}\0`).join(''));
  const [piped, read, written] = await Promise.allSettled([pipeline(source.stdout, sink.stdin), source.done, sink.done]);
  for (const result of [written, read, piped]) if (result.status === 'rejected') throw copyError(result.reason);
}
