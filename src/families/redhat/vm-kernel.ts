import { VM_INITRAMFS_DRIVERS } from '../../disks/initramfs-drivers.js';
import type { VmKernel } from '../types.js';

/** dracut reads every *.conf here, on Fedora and EL as on any dracut system. */
export const DRACUT_CONF = '/etc/dracut.conf.d/90-vmgen.conf';

/**
 * An initramfs for any vmgen VM, not for the build host it is made on: dracut's hostonly mode
 * (Fedora's default) would look at the build host's disks. `drivers` is exclusive, so the kernel
 * modules dracut would otherwise take (all block and network drivers) stay out: seconds, not minutes.
 */
export function renderDracutConf(): string {
  return [
    '# Written by vmgen: a generic initramfs with the drivers of vmgen\'s VM targets.',
    'hostonly="no"',
    `drivers+=" ${VM_INITRAMFS_DRIVERS.join(' ')} "`,
    '',
  ].join('\n');
}

/**
 * Fedora and EL ship the kernel as /lib/modules/VERSION/vmlinuz and leave /boot to kernel-install,
 * whose plugins differ by release and boot loader (BLS entries under /boot/MACHINE-ID, or grubby's
 * /boot/vmlinuz-VERSION). vmgen installs its own boot loader, so it puts the kernel and a dracut
 * initramfs where that reads them whatever kernel-install did. A constant: it takes no argument.
 */
export const KERNEL_FINISH_SCRIPT = [
  'set -eu',
  'found=',
  'for dir in /lib/modules/*/; do',
  '  v=$(basename "$dir")',
  '  [ -e "$dir/vmlinuz" ] || [ -e "/boot/vmlinuz-$v" ] || continue',
  '  found=1',
  '  [ -e "/boot/vmlinuz-$v" ] || cp "$dir/vmlinuz" "/boot/vmlinuz-$v"',
  '  [ -e "/boot/initramfs-$v.img" ] || dracut --quiet --no-hostonly --kver "$v" "/boot/initramfs-$v.img"',
  'done',
  '[ -n "$found" ] || { echo "no kernel under /lib/modules (is kernel-core installed?)" >&2; exit 1; }',
].join('\n');

/** A Fedora or EL VM: kernel-core (which the seed's Fedora guests had from their install DVD), dracut and udev. */
export const redhatVmKernel: VmKernel = {
  packages: ['dosfstools', 'dracut', 'kernel-core', 'kmod', 'systemd-udev'],
  setupFiles: [{ path: DRACUT_CONF, content: renderDracutConf() }],
  finish: {
    files: [],
    links: [],
    commands: [{ argv: ['sh', '-c', KERNEL_FINISH_SCRIPT], why: 'put the kernel and its dracut initramfs in /boot for the boot loader' }],
  },
};
