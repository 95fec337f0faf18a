import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Every program vmgen runs on the host, with the Debian package that has it: the one list the
 * host-tool check and "cannot run" hints read. A test scans src/ for the programs handed to the
 * exec runner and fails on any missing here, so it cannot fall behind the code.
 */
export const HOST_TOOLS = {
  // Package tools and the namespaces and chroot they run in.
  mmdebstrap: 'mmdebstrap', dnf: 'dnf', rpm: 'rpm', unshare: 'util-linux', chroot: 'coreutils', perl: 'perl-base', mknod: 'coreutils', sh: 'dash',
  // Files, mounts and the cache.
  cp: 'coreutils', mv: 'coreutils', dd: 'coreutils', du: 'coreutils', sync: 'coreutils', mount: 'mount', umount: 'mount',
  // Archives and their compressors.
  tar: 'tar', zstd: 'zstd', gzip: 'gzip', pigz: 'pigz', xz: 'xz-utils', zip: 'zip', unzip: 'unzip', xorriso: 'xorriso',
  // Disks, file systems and boot loaders.
  sfdisk: 'fdisk', losetup: 'mount', partx: 'util-linux', mkswap: 'util-linux',
  'mkfs.ext2': 'e2fsprogs', 'mkfs.ext3': 'e2fsprogs', 'mkfs.ext4': 'e2fsprogs', 'mkfs.xfs': 'xfsprogs', 'mkfs.vfat': 'dosfstools',
  'mkfs.ntfs': 'ntfs-3g', mkntfs: 'ntfs-3g', ntfslabel: 'ntfs-3g', ntfscp: 'ntfs-3g', ntfsls: 'ntfs-3g', ntfsclone: 'ntfs-3g', ntfsresize: 'ntfs-3g',
  mcopy: 'mtools', mmd: 'mtools', extlinux: 'extlinux', 'qemu-img': 'qemu-utils', 'qemu-storage-daemon': 'qemu-system-common',
  // What `vmgen verify` starts guests with.
  'lxc-create': 'lxc', 'lxc-start': 'lxc', 'lxc-stop': 'lxc', 'lxc-attach': 'lxc', 'lxc-destroy': 'lxc', nsenter: 'util-linux',
  'systemd-nspawn': 'systemd-container', podman: 'podman', 'qemu-system-x86_64': 'qemu-system-x86',
  // What `vmgen lab up|verify|down` adds: the lab's namespace and bridges, container state, ICMP from a guest's stack, compose files.
  ip: 'iproute2', 'lxc-info': 'lxc', ping: 'iputils-ping', 'docker-compose': 'docker-compose',
  // An OCI lab's images, copied from the lab's layout into podman's store (skopeo copy oci:DIR:NAME …).
  skopeo: 'skopeo',
} as const satisfies Record<string, string>;

export type HostTool = keyof typeof HOST_TOOLS;

export function isHostTool(name: string): name is HostTool {
  return Object.hasOwn(HOST_TOOLS, name);
}

/** The package to install for a tool; its own name where the table has none. */
export function packageOf(tool: string): string {
  return isHostTool(tool) ? HOST_TOOLS[tool] : tool;
}

/**
 * Where a tool is, looked up the way the exec runner's spawn finds it: on PATH alone. A tool only
 * in a directory PATH lacks (/usr/sbin for some users) would pass a wider check and then fail to start.
 */
export function findTool(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
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
