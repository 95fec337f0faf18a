import type { HostTool } from '../exec/tools.js';

interface FilesystemRow {
  /** The disk builder mounts it to copy the root file system in (the host kernel has no vfat: MACHINE.md). */
  mountable: boolean;
  /** The host program that makes it. */
  mkfs: HostTool;
  /** Longest label its mkfs takes; longer ones are cut. */
  labelMax: number;
  /** The guest's package for it (fsck at boot, mkfs later), where the base system lacks it. */
  guestPackage?: string;
  /** Windows Setup and the base-disk method make it. */
  windows: boolean;
  /** Its partition type id in an MBR (the seed's Listing 4.5, plus vfat). */
  mbrType: string;
}

/**
 * Every file system a partition can have, with what the disk builder, the validation and the
 * guest's package list need to know of it. The config's enum and the layout's `Filesystem` type
 * derive from it; the mkfs programs are HOST_TOOLS names, checked by the type.
 */
export const FILESYSTEMS = {
  ext2: { mountable: true, mkfs: 'mkfs.ext2', labelMax: 16, windows: false, mbrType: '83' },
  ext3: { mountable: true, mkfs: 'mkfs.ext3', labelMax: 16, windows: false, mbrType: '83' },
  ext4: { mountable: true, mkfs: 'mkfs.ext4', labelMax: 16, windows: false, mbrType: '83' },
  xfs: { mountable: true, mkfs: 'mkfs.xfs', labelMax: 12, guestPackage: 'xfsprogs', windows: false, mbrType: '83' },
  vfat: { mountable: false, mkfs: 'mkfs.vfat', labelMax: 11, windows: true, mbrType: 'c' },
  ntfs: { mountable: false, mkfs: 'mkfs.ntfs', labelMax: 128, guestPackage: 'ntfs-3g', windows: true, mbrType: '7' },
  swap: { mountable: false, mkfs: 'mkswap', labelMax: 16, windows: false, mbrType: '82' },
} as const satisfies Record<string, FilesystemRow>;

export type Filesystem = keyof typeof FILESYSTEMS;

const ROWS: Readonly<Record<Filesystem, FilesystemRow>> = FILESYSTEMS;

export const FILESYSTEM_NAMES = Object.keys(FILESYSTEMS) as [Filesystem, ...Filesystem[]];

export function filesystem(fs: Filesystem): FilesystemRow {
  return ROWS[fs];
}

/** The file systems that can hold a Linux root file system the disk builder copies in. */
export const MOUNTABLE_FILESYSTEMS: readonly Filesystem[] = FILESYSTEM_NAMES.filter((fs) => ROWS[fs].mountable);
