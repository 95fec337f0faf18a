import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmgenError } from '../errors.js';
import {
  pickKernel, renderExtlinuxConf, renderLoaderConf, renderSystemdBootEntry, SYSTEMD_BOOT_ENTRY, type KernelFiles,
} from './boot-config.js';
import { copyIntoFat, removeTree, tool, type AttachedPartition, type DiskImageContext, type Releases } from './disk-tools.js';
import type { VmLayout } from './layout.js';
import { biosBootPartition } from './partition-plan.js';

/*
 * The boot loaders disk-image.ts installs once the root file system is copied in: extlinux for BIOS,
 * systemd-boot on the ESP for UEFI, both booting the guest's own kernel.
 */

/** The boot code part of an MBR; the partition table starts at byte 446 (disk signature at 440). */
const BOOT_CODE_BYTES = 440;
const SYSLINUX_MBR_DIRS = ['/usr/lib/syslinux/mbr', '/usr/lib/EXTLINUX', '/usr/share/syslinux'];
const SYSTEMD_BOOT_EFI = 'usr/lib/systemd/boot/efi/systemd-bootx64.efi';
/** Each firmware's boot loader: extlinux for BIOS, systemd-boot copied onto the ESP with mtools for UEFI. */
export const BOOT_LOADER_TOOLS: Record<VmLayout['firmware'], readonly string[]> = { bios: ['extlinux'], efi: ['mcopy'] };

/** The guest's kernel and initrd under /boot, which the boot loader entry names. */
export async function findKernel(rootfs: string): Promise<KernelFiles> {
  const kernel = pickKernel(await readdir(join(rootfs, 'boot')).catch(() => []));
  if (kernel === undefined) {
    throw new VmgenError('VMG_BUILD', `the root file system has no kernel (${join(rootfs, 'boot', 'vmlinuz-*')})`, {
      hint: 'a VM guest needs a kernel package in its package list (linux-image-amd64 on Debian)',
    });
  }
  return kernel;
}

/** Syslinux's MBR code finds the active (MBR) or LegacyBIOSBootable (GPT) partition and runs its boot sector. */
export async function writeBootCode(path: string, name: 'mbr.bin' | 'gptmbr.bin'): Promise<void> {
  const source = SYSLINUX_MBR_DIRS.map((dir) => join(dir, name)).find((p) => existsSync(p));
  if (source === undefined) throw new VmgenError('VMG_TOOL_MISSING', `syslinux's ${name} is missing`, { hint: 'apt-get install syslinux-common' });
  const code = (await readFile(source)).subarray(0, BOOT_CODE_BYTES);
  const file = await open(path, 'r+');
  try {
    await file.write(code, 0, code.length, 0);
  } finally {
    await file.close();
  }
}

export async function installExtlinux(ctx: DiskImageContext, mnt: string, kernel: KernelFiles, cmdline: string): Promise<void> {
  const bootPart = biosBootPartition(ctx.layout.disks.find((d) => d.boot)!)!;
  // extlinux reads paths from the root of the file system it is installed on.
  const prefix = bootPart.mount === '/boot' ? '' : '/boot';
  const dir = join(mnt, 'boot', 'extlinux');
  await mkdir(dir, { recursive: true });
  const conf = renderExtlinuxConf({
    kernel: `${prefix}/${kernel.kernel}`, ...(kernel.initrd === undefined ? {} : { initrd: `${prefix}/${kernel.initrd}` }), cmdline,
  });
  await writeFile(join(dir, 'extlinux.conf'), conf);
  await tool(ctx, ['extlinux', '--install', dir]);
  ctx.log(`extlinux installed on ${bootPart.name}, booting ${kernel.kernel}`);
}

/** The guest's own systemd-boot matches its systemd; the host's is the fallback. */
export function systemdBootBinary(ctx: DiskImageContext): string {
  const guest = join(ctx.rootfs, SYSTEMD_BOOT_EFI);
  if (existsSync(guest)) return guest;
  const host = join('/', SYSTEMD_BOOT_EFI);
  if (existsSync(host)) {
    ctx.log(`the guest has no ${SYSTEMD_BOOT_EFI} (package systemd-boot-efi); using the host's`);
    return host;
  }
  throw new VmgenError('VMG_TOOL_MISSING', 'no systemd-boot EFI binary in the guest or on the host', { hint: 'add systemd-boot-efi to the guest, or apt-get install systemd-boot-efi on the host' });
}

/**
 * The ESP is assembled in a directory (the guest's /boot/efi content, systemd-boot as the removable
 * media path so no NVRAM entry is needed, loader config, kernel and initrd) and copied with mtools.
 */
export async function installSystemdBoot(
  ctx: DiskImageContext, esp: AttachedPartition, binary: string, kernel: KernelFiles, cmdline: string, releases: Releases,
): Promise<void> {
  const stage = await mkdtemp(join(ctx.workDir, 'esp-'));
  releases.add(`directory ${stage}`, () => removeTree(stage));
  const fromGuest = join(ctx.rootfs, esp.partition.mount ?? '/boot/efi');
  if (existsSync(fromGuest)) await cp(fromGuest, stage, { recursive: true });
  await Promise.all(['EFI/BOOT', 'EFI/systemd', 'loader/entries'].map((d) => mkdir(join(stage, d), { recursive: true })));
  await copyFile(binary, join(stage, 'EFI/BOOT/BOOTX64.EFI'));
  await copyFile(binary, join(stage, 'EFI/systemd/systemd-bootx64.efi'));
  await copyFile(join(ctx.rootfs, 'boot', kernel.kernel), join(stage, kernel.kernel));
  if (kernel.initrd !== undefined) await copyFile(join(ctx.rootfs, 'boot', kernel.initrd), join(stage, kernel.initrd));
  await writeFile(join(stage, 'loader/loader.conf'), renderLoaderConf());
  const entry = renderSystemdBootEntry({
    title: `vmgen ${kernel.version}`, kernel: `/${kernel.kernel}`, ...(kernel.initrd === undefined ? {} : { initrd: `/${kernel.initrd}` }), cmdline,
  });
  await writeFile(join(stage, 'loader/entries', SYSTEMD_BOOT_ENTRY), entry);
  await copyIntoFat(ctx, esp.device, stage);
  ctx.log(`systemd-boot installed on ${esp.device}, booting ${kernel.kernel}`);
}
