/**
 * Boot loader files for a VM disk, as text: extlinux for BIOS, systemd-boot for UEFI. Pure, so the
 * executor only places them and golden tests can read them.
 */

/**
 * Serial console first-class (the headless boots of the tests and of `vmgen verify` read it) and
 * classic NIC names, so the guest's eth0… network files match whatever bus the NICs sit on.
 */
export function kernelCmdline({ rootUuid }: { rootUuid: string }): string {
  return `root=UUID=${rootUuid} ro console=tty0 console=ttyS0,115200 net.ifnames=0`;
}

export interface BootEntry {
  /** Paths as the boot loader sees them: from the root of the file system it reads. */
  kernel: string;
  initrd?: string;
  cmdline: string;
}

/** One entry, no menu, no wait: a generated machine has nothing to choose. */
export function renderExtlinuxConf({ kernel, initrd, cmdline }: BootEntry): string {
  return [
    '# Written by vmgen.',
    'SERIAL 0 115200',
    'DEFAULT vmgen',
    'PROMPT 0',
    'TIMEOUT 0',
    '',
    'LABEL vmgen',
    `  LINUX ${kernel}`,
    ...(initrd === undefined ? [] : [`  INITRD ${initrd}`]),
    `  APPEND ${cmdline}`,
    '',
  ].join('\n');
}

export const SYSTEMD_BOOT_ENTRY = 'vmgen.conf';

export function renderLoaderConf(): string {
  return [`default ${SYSTEMD_BOOT_ENTRY}`, 'timeout 0', 'console-mode keep', 'editor no', ''].join('\n');
}

export function renderSystemdBootEntry({ title, kernel, initrd, cmdline }: BootEntry & { title: string }): string {
  return [`title ${title}`, `linux ${kernel}`, ...(initrd === undefined ? [] : [`initrd ${initrd}`]), `options ${cmdline}`, ''].join('\n');
}

export interface KernelFiles {
  version: string;
  /** File names in /boot. */
  kernel: string;
  initrd?: string;
}

/** Made on first use: ICU's collator costs ~9 ms to set up, in every process that imports this module. */
let versions: Intl.Collator | undefined;

/** The newest kernel among the names in a root file system's /boot, and its initrd if it has one. */
export function pickKernel(bootFiles: readonly string[]): KernelFiles | undefined {
  const found = bootFiles.filter((f) => /^vmlinuz-.+/.test(f)).map((f) => f.slice('vmlinuz-'.length));
  const version = found.sort((a, b) => (versions ??= new Intl.Collator('en', { numeric: true })).compare(b, a))[0];
  if (version === undefined) return undefined;
  // Debian's initramfs-tools and dracut's Fedora and EL defaults name it differently.
  const initrd = [`initrd.img-${version}`, `initramfs-${version}.img`].find((f) => bootFiles.includes(f));
  return { version, kernel: `vmlinuz-${version}`, ...(initrd === undefined ? {} : { initrd }) };
}
