import { VM_INITRAMFS_DRIVERS } from '../../disks/initramfs-drivers.js';
import type { VmKernel } from '../types.js';

/**
 * A Debian-family VM: the kernel with initramfs-tools (whose own trigger makes the initrd during
 * the install), udev, and the UEFI boot manager's files and the ESP's fsck (small, so BIOS and
 * UEFI machines share one layer).
 */
export const debianVmKernel: VmKernel = {
  packages: ['dosfstools', 'initramfs-tools', 'kmod', 'linux-image-amd64', 'systemd-boot-efi', 'udev'],
  setupFiles: [
    { path: '/etc/initramfs-tools/conf.d/vmgen.conf', content: '# vmgen: only the drivers listed in ../modules (fast, and enough for any vmgen VM)\nMODULES=list\n' },
    { path: '/etc/initramfs-tools/modules', content: `# vmgen: disk controllers, NICs and file systems of vmgen's VM targets\n${VM_INITRAMFS_DRIVERS.join('\n')}\n` },
  ],
};
