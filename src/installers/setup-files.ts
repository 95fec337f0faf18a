import { mkdir, writeFile } from 'node:fs/promises';
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
    await mkdir(dirname(join(root, f.path)), { recursive: true });
    await writeFile(join(root, f.path), f.content, { mode: f.mode ?? 0o644 });
  }
}
