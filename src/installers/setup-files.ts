import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { GuestFile } from '../families/types.js';

/**
 * Writes a layer's setup files (a VM kernel's initramfs settings) under `root`, the new root file
 * system or a directory a package tool's hook copies into it. Their paths are vmgen's own
 * constants; the check keeps a mistake in one from writing outside `root`.
 */
export async function writeSetupFiles(root: string, files: readonly GuestFile[]): Promise<void> {
  for (const f of files) {
    if (!f.path.startsWith('/') || f.path.split('/').includes('..')) throw new Error(`setup file path must be absolute and plain: ${f.path}`);
    await mkdirs(root, dirname(f.path));
    await writeFile(join(root, f.path), f.content);
    // writeFile's mode is filtered by the umask; the guest needs the file's own.
    await chmod(join(root, f.path), f.mode ?? 0o644);
  }
}

/**
 * The directories on the way to a file, each one this makes 0755 whatever the umask: they may be
 * copied onto the guest's own (/etc) with their modes.
 */
async function mkdirs(root: string, dir: string): Promise<void> {
  let at = root;
  for (const part of dir.split('/').filter(Boolean)) {
    at = join(at, part);
    const made = await mkdir(at).then(() => true, (err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') return false;
      throw err;
    });
    if (made) await chmod(at, 0o755);
  }
}
