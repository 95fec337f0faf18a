import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Archives are written under a hidden temporary name in the output directory and renamed when
 * complete, so a failed or cancelled build never leaves a half-written archive under its real name.
 */

/** A fresh temporary name for an archive of machine `name` in `outDir` (which is made if missing). */
export async function partialArchivePath(outDir: string, name: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  return join(outDir, `.${name}.${randomBytes(4).toString('hex')}.partial`);
}

/** The archive's real name: NAME-TARGET.FORMAT. */
export function archivePath(outDir: string, name: string, target: string, format: string): string {
  return join(outDir, `${name}-${target}.${format}`);
}

/** Where the first part of an archive kept as parts (the service's) is: hidden, beside the archive's file. */
export function archiveHeadPath(archive: string): string {
  return join(dirname(archive), `.${basename(archive)}.head`);
}

/**
 * Moves the finished archive to its name. An older archive of that name is moved aside first, then
 * removed: renaming onto an existing file makes ext4 write the new file's data out before the
 * rename returns (auto_da_alloc), which for a VM's archive is a second or more of waiting.
 */
export async function publishArchive(partial: string, final: string): Promise<void> {
  const aside = `${partial}.old`;
  const replaced = await rename(final, aside).then(() => true, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return false;
    throw err;
  });
  try {
    await rename(partial, final);
  } catch (err) {
    if (replaced) await rename(aside, final);
    throw err;
  }
  if (replaced) await rm(aside, { force: true });
}
