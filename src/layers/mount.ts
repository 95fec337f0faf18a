import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { unmount } from '../exec/mounts.js';
import { CommandError, run } from '../exec/run.js';

/**
 * A writable view of a cached layer for one build. An overlay mount costs nothing however big the
 * layer is and leaves the layer untouched; where overlayfs is unavailable (no root, an old kernel)
 * the layer is copied instead. Renamed directories and metadata-only copy-ups are off, so the upper
 * directory holds whole files: a VM build copies exactly those into its cached disk images.
 */
export interface MountedRootfs {
  path: string;
  how: 'overlay' | 'copy';
  /** Overlay only: every file the build wrote, and the layer below (what the build changed is their difference). */
  upper?: string;
  lower?: string;
  /**
   * Overlay only: the directory holding `upper` and the overlay's work directory, and that work
   * directory's name, for a sandbox that mounts the same layers its own way.
   */
  layers?: { base: string; upper: string; work: string };
  /** Overlay only: unmounts it until the returned function mounts it again (another overlay may then use its layers). */
  suspend?(): Promise<() => Promise<void>>;
  release(): Promise<void>;
}

/** The overlay mount, its unmount and the copy where overlayfs is missing (layers.ts copies too). */
export const MOUNT_TOOLS = ['mount', 'umount', 'cp'] as const;

export async function mountLayer(layerRootfs: string, workDir: string, mountPoint: string, signal?: AbortSignal): Promise<MountedRootfs> {
  // overlayfs splits its options at commas and colons; such a cache path cannot be mounted safely.
  if (/[,:\\]/.test(layerRootfs + workDir)) throw new Error(`cache and work paths may not contain ',', ':' or '\\': ${workDir}`);
  const upper = join(workDir, 'upper');
  const scratch = join(workDir, 'overlay-work');
  await Promise.all([mkdir(upper, { recursive: true }), mkdir(scratch, { recursive: true }), mkdir(mountPoint, { recursive: true })]);
  const options = `lowerdir=${layerRootfs},upperdir=${upper},workdir=${scratch},redirect_dir=off,metacopy=off`;
  const mount = async (): Promise<void> => {
    // volatile (Linux 5.10): the upper directory is thrown away with the build, so its unmount need
    // not sync the file system it is on, which holds the archive just written (a VM's: a gigabyte).
    for (const extra of [',volatile', '']) {
      try {
        await run(['mount', '-t', 'overlay', 'overlay', '-o', `${options}${extra}`, mountPoint], signal ? { signal } : {});
        break;
      } catch (err) {
        if (extra === '' || signal?.aborted || !(err instanceof CommandError)) throw err;
      }
    }
  };
  // A volatile overlay leaves a mark in its work directory that refuses the next mount; the
  // directory holds nothing else worth keeping once unmounted.
  const clearWork = (): Promise<void> => rm(join(scratch, 'work'), { recursive: true, force: true });
  try {
    await mount();
    return {
      path: mountPoint, how: 'overlay', upper, lower: layerRootfs,
      layers: { base: workDir, upper: 'upper', work: 'overlay-work' },
      suspend: async () => {
        await unmount(mountPoint);
        await clearWork();
        return async () => {
          await clearWork();
          await mount();
        };
      },
      release: () => unmount(mountPoint),
    };
  } catch (err) {
    if (signal?.aborted || !(err instanceof CommandError)) throw err;
    // cp -a, not fs.cp: a root file system needs its owners, modes, links and device nodes kept.
    await run(['cp', '-a', '--reflink=auto', `${layerRootfs}/.`, mountPoint], signal ? { signal } : {});
    return { path: mountPoint, how: 'copy', release: async () => {} };
  }
}
