/**
 * image.tar: an LXC image, meta.tar.xz and rootfs.tar.xz as `lxc-create -t local` takes them.
 * box: a Vagrant box, a gzip tar of metadata.json, Vagrantfile and the disks, as `vagrant box add` takes it.
 */
export const ARCHIVE_FORMATS = ['tar.zst', 'tar.gz', 'tar', 'zip', 'ova', 'image.tar', 'box'] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];
