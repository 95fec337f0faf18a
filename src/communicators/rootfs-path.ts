import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

const MAX_LINKS = 40;

/**
 * Maps a guest path to the host path it names, following symbolic links the way the guest would
 * see them: an absolute link target starts again at the guest's root, and ".." never climbs above
 * it. So a link such as /etc/x -> /etc/passwd inside the rootfs, or a name like ../../x, can never
 * lead a write outside the rootfs. The last component is not followed when `followLast` is false
 * (a rename onto a link replaces the link, not its target).
 */
export function resolveInRoot(root: string, guestPath: string, followLast = true): string {
  if (!guestPath.startsWith('/')) throw new Error(`guest path must be absolute: ${JSON.stringify(guestPath)}`);
  if (guestPath.includes('\0')) throw new Error('guest path contains a NUL byte');
  let pending = guestPath.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '..') {
      resolved.pop();
      continue;
    }
    const isLast = pending.length === 0;
    const candidate = join(root, ...resolved, name);
    let target: string | undefined;
    if (!isLast || followLast) {
      try {
        if (lstatSync(candidate).isSymbolicLink()) target = readlinkSync(candidate);
      } catch {
        target = undefined; // a missing component is created later, inside the root
      }
    }
    if (target === undefined) {
      resolved.push(name);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`too many symbolic links resolving ${guestPath}`);
    const rest = target.split('/').filter((c) => c !== '' && c !== '.');
    if (target.startsWith('/')) resolved.length = 0;
    pending = [...rest, ...pending];
  }
  return join(root, ...resolved);
}
