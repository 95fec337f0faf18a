import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
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
  try {
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
    return { path: mountPoint, how: 'overlay', upper, lower: layerRootfs, release: () => unmount(mountPoint) };
  } catch (err) {
    if (signal?.aborted || !(err instanceof CommandError)) throw err;
    // cp -a, not fs.cp: a root file system needs its owners, modes, links and device nodes kept.
    await run(['cp', '-a', '--reflink=auto', `${layerRootfs}/.`, mountPoint], signal ? { signal } : {});
    return { path: mountPoint, how: 'copy', release: async () => {} };
  }
}

/** Lazy unmount as a last resort, so a busy mount cannot survive the build that made it. */
async function unmount(path: string): Promise<void> {
  try {
    await run(['umount', path]);
  } catch {
    await run(['umount', '--lazy', path]);
  }
}
