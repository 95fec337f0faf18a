import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { VmgenError } from '../errors.js';

/** Debian packages that provide the tools a build runs, so the error can say what to install. */
const TOOLS: Record<string, string> = {
  mmdebstrap: 'mmdebstrap',
  dnf: 'dnf',
  rpm: 'rpm',
  unshare: 'util-linux',
  chroot: 'coreutils',
  mount: 'mount',
  tar: 'tar',
  zstd: 'zstd',
  gzip: 'gzip',
  zip: 'zip',
  sfdisk: 'fdisk',
  losetup: 'mount',
  'mkfs.ext4': 'e2fsprogs',
  'mkfs.vfat': 'dosfstools',
  mcopy: 'mtools',
  mkswap: 'util-linux',
  extlinux: 'extlinux',
  'qemu-img': 'qemu-utils',
  'qemu-storage-daemon': 'qemu-system-common',
};

/** What every build runs besides its installer's own tools (Installer.hostTools). */
export const CONTAINER_TOOLS = ['unshare', 'chroot', 'mount', 'tar', 'zstd', 'gzip'] as const;
/** A VM build also partitions, formats and converts disks, and installs a bootloader. */
export const VM_TOOLS = [...CONTAINER_TOOLS, 'sfdisk', 'losetup', 'mkfs.ext4', 'mkfs.vfat', 'mcopy', 'mkswap', 'extlinux', 'qemu-img', 'qemu-storage-daemon'] as const;

export function findTool(name: string, path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): string | undefined {
  for (const dir of [...path.split(delimiter), '/usr/sbin', '/sbin']) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** Fails before any work when a tool is missing, naming the package that has it. */
export function checkHostTools(tools: readonly string[] = CONTAINER_TOOLS): void {
  const missing = tools.filter((t) => findTool(t) === undefined);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((t) => TOOLS[t] ?? t))];
    throw new VmgenError('VMG_TOOL_MISSING', `missing host tools: ${missing.join(', ')}`, { hint: `apt-get install ${pkgs.join(' ')} (scripts/setup.sh installs everything)` });
  }
  if (process.getuid?.() !== 0) {
    throw new VmgenError('VMG_TOOL_MISSING', 'building a root file system needs root (its package tool, mounts and chroot)', { hint: 'run vmgen build as root, e.g. with sudo' });
  }
}
