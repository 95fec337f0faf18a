/** image.tar: an LXC image, meta.tar.xz and rootfs.tar.xz as `lxc-create -t local` takes them. */
export const ARCHIVE_FORMATS = ['tar.zst', 'tar.gz', 'tar', 'zip', 'ova', 'image.tar'] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];
