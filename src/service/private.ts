import { chmod, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The service's files hold configs (passwords), the link-signing key and users' archives: only
 * their owner may read them. Made so at every start, not only when vmgen creates them, because an
 * admin's mkdir, an unpacked backup or an older vmgen leaves them world-readable.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Makes `path` private, and with `recursive` everything below it; returns what changed. Links are left alone (chmod follows them). */
export async function makePrivate(path: string, opts: { recursive: boolean }): Promise<string[]> {
  const changed: string[] = [];
  const visit = async (p: string): Promise<void> => {
    const st = await lstat(p).catch(() => undefined);
    if (!st || !(st.isDirectory() || st.isFile())) return;
    const want = st.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE;
    if ((st.mode & 0o7777) !== want) {
      await chmod(p, want);
      changed.push(p);
    }
    if (opts.recursive && st.isDirectory()) {
      for (const name of await readdir(p).catch(() => [] as string[])) await visit(join(p, name));
    }
  };
  await visit(path);
  return changed;
}
