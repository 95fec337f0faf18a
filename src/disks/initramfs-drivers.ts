/**
 * Drivers for every disk controller and NIC vmgen can give a VM, so one initramfs boots under
 * VMware, QEMU and VirtualBox whatever the family's generator. Naming them instead of letting the
 * generator take "most" (initramfs-tools) or everything (dracut without hostonly) makes each
 * initramfs take seconds instead of minutes.
 */
export const VM_INITRAMFS_DRIVERS: readonly string[] = [
  'virtio_pci', 'virtio_blk', 'virtio_scsi', 'virtio_net', 'sd_mod', 'sr_mod', 'ahci', 'ata_piix', 'ata_generic', 'pata_acpi',
  'mptspi', 'mptsas', 'vmw_pvscsi', 'BusLogic', 'nvme', 'ext4', 'xfs', 'vfat', 'nls_cp437', 'nls_ascii', 'crc32c_generic',
];
