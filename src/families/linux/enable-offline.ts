import { posix } from 'node:path';
import type { Communicator } from '../../communicators/types.js';
import type { GuestLink, SystemdEnable } from '../types.js';
import { CONFIG_DIR, enableLinks, offlineBlocker, parseInstallSection, unitName } from './unit-install.js';

/*
 * Carries out `systemctl enable` on a guest root by writing its links (unit-install.ts), which
 * costs a build nothing next to starting systemctl in the guest (130 ms here). Whatever it cannot
 * prove it reproduces exactly is left to systemctl: a unit not found, found through a link (an
 * alias, a masked unit), a template, an [Install] setting it does not handle, a link path already
 * taken by something else, and a unit with a SysV init script that is not enabled yet, since
 * systemctl then also runs update-rc.d (Debian's systemd-sysv-install). A unit whose links are all
 * there already is left alone, as systemctl leaves it.
 */

/** The part of a communicator this needs: reading the root and making links in it. */
type Guest = Pick<Communicator, 'readFile' | 'symlink'> & Required<Pick<Communicator, 'readLink'>>;

export interface EnableResult {
  /** The links made. */
  links: GuestLink[];
  /** Units already enabled. */
  already: string[];
  /** Units left to `systemctl enable`, each with why. */
  leftover: Array<{ unit: string; why: string }>;
}

async function exists(guest: Guest, path: string): Promise<boolean> {
  return (await guest.readLink(path)) !== undefined || isThere(guest, path);
}

/** Whether `path`, which is no link, is there: a file reads, a directory answers EISDIR. */
async function isThere(guest: Guest, path: string): Promise<boolean> {
  try {
    await guest.readFile(path);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EISDIR';
  }
}

async function readText(guest: Guest, path: string): Promise<string | undefined> {
  try {
    return (await guest.readFile(path)).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** The directories systemd looks for unit files in, in its order, as this guest's systemd was built. */
async function searchPath(guest: Guest, how: SystemdEnable): Promise<string[]> {
  const vendor: string[] = [];
  for (const v of how.vendorDirs) {
    if (v.when === undefined || ((await readText(guest, v.when.file)) ?? '').split('\n').includes(v.when.line)) vendor.push(v.dir);
  }
  return [CONFIG_DIR, '/usr/local/lib/systemd/system', ...vendor];
}

type Found = { path: string; text: string } | { why: string };

async function findUnit(guest: Guest, unit: string, dirs: readonly string[]): Promise<Found> {
  for (const dir of dirs) {
    const path = posix.join(dir, unit);
    if ((await guest.readLink(path)) !== undefined) return { why: `${path} is a link (an alias or a masked unit)` };
    const text = await readText(guest, path);
    if (text !== undefined) return { path, text };
  }
  return { why: 'no unit file of that name' };
}

/** Enables `how.units` by writing links where that is exactly what systemctl would do (see above). */
export async function enableOffline(guest: Guest, how: SystemdEnable): Promise<EnableResult> {
  const dirs = await searchPath(guest, how);
  const result: EnableResult = { links: [], already: [], leftover: [] };
  const queue = how.units.map(unitName);
  const seen = new Set<string>();
  while (queue.length > 0) {
    const unit = queue.shift()!;
    if (seen.has(unit)) continue;
    seen.add(unit);
    const found = await findUnit(guest, unit, dirs);
    if ('why' in found) {
      result.leftover.push({ unit, why: found.why });
      continue;
    }
    const install = parseInstallSection(found.text);
    const blocker = offlineBlocker(unit, install);
    if (blocker !== undefined) {
      result.leftover.push({ unit, why: blocker });
      continue;
    }
    const missing: GuestLink[] = [];
    let taken: string | undefined;
    for (const link of enableLinks(unit, found.path, install)) {
      const current = await guest.readLink(link.path);
      if (current === link.target) continue;
      if (current !== undefined || await isThere(guest, link.path)) taken = link.path;
      missing.push(link);
    }
    if (taken !== undefined) {
      result.leftover.push({ unit, why: `${taken} exists and is not its link` });
      continue;
    }
    if (missing.length > 0 && unit.endsWith('.service') && await exists(guest, `/etc/init.d/${unit.slice(0, -'.service'.length)}`)) {
      result.leftover.push({ unit, why: 'it has a SysV init script, which systemctl enables too' });
      continue;
    }
    if (missing.length === 0) result.already.push(unit);
    result.links.push(...missing);
    queue.push(...install.also.map(unitName));
  }
  for (const link of result.links) await guest.symlink(link.target, link.path);
  return result;
}
