import { copyFile, mkdir, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { run } from '../../exec/run.js';
import type { VmLayout } from '../../disks/layout.js';
import type { ArchiveEntry, DiskImage, TargetRender } from '../types.js';
import { convertArgv, vmdkAdapter } from '../../disks/disk-cache.js';

export { convertArgv, vmdkAdapter };
import { chooseUuids, renderVmFstab } from '../../disks/fstab.js';
import { sfdiskScript } from '../../disks/partition-plan.js';
import { nameSparseExtent } from '../../disks/vmdk-descriptor.js';

/** What a VM target's packing runs besides its archive format's packer: the disk conversion. */
export const VM_PACKAGE_TOOLS = ['qemu-img'] as const;

/**
 * Puts each disk into `dir` in the target's format: an image already in that format is moved,
 * any other converted (a cached VMDK is monolithicSparse; VirtualBox wants streamOptimized). A
 * VMDK's descriptor then names the file by its name in the archive, whatever it was made as.
 */
export async function convertImages(images: readonly DiskImage[], layout: VmLayout, dir: string, format: 'vmdk' | 'qcow2',
  signal: AbortSignal, opts: { subformat?: 'monolithicSparse' | 'streamOptimized'; extension?: string } = {}): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const files: Record<string, string> = {};
  for (const image of images) {
    const disk = layout.disks.find((d) => d.name === image.disk)!;
    const name = `${disk.file}.${opts.extension ?? format}`;
    const sameSubformat = format !== 'vmdk' || (opts.subformat ?? 'monolithicSparse') === 'monolithicSparse';
    if (image.format === format && sameSubformat) {
      await rename(image.path, join(dir, name));
    } else {
      await run(convertArgv(image.path, join(dir, name), format, {
        from: image.format, ...(opts.subformat ? { subformat: opts.subformat } : {}), ...(format === 'vmdk' ? { adapter: vmdkAdapter(disk.controller) } : {}),
      }), { signal });
    }
    if (format === 'vmdk') await nameSparseExtent(join(dir, name), name, vmdkAdapter(disk.controller));
    files[disk.name] = name;
  }
  return files;
}

/**
 * CD images: those the user asked to ship are copied into the archive (`shipped`); the others are
 * referenced where they are. `names` is what the description file names each drive's image.
 */
export async function placeIsos(layout: VmLayout, dir: string): Promise<{ names: Record<string, string>; shipped: string[] }> {
  const copied = layout.cdDrives.filter((cd) => cd.copy && cd.path !== undefined);
  for (const cd of copied) await copyFile(cd.path!, join(dir, basename(cd.path!)));
  return { names: isoNames(layout), shipped: copied.map((cd) => basename(cd.path!)) };
}

/** How the build will name shipped ISOs: by file name when copied into the archive, else the host path. */
export function isoNames(layout: VmLayout): Record<string, string> {
  return Object.fromEntries(layout.cdDrives.filter((c) => c.path !== undefined).map((c) => [c.name, c.copy ? basename(c.path!) : c.path!]));
}

/**
 * What `vmgen render` shows for any VM besides its description file: each disk's partition table
 * as sfdisk reads it. A Linux guest's fstab is the OS family's (renderLinuxVmFstab); Windows has none.
 */
export function renderVmCommon(description: ArchiveEntry[], layout: VmLayout | undefined): TargetRender {
  if (!layout) return { archiveFiles: description, guestFiles: [] };
  return {
    archiveFiles: [...description, ...layout.disks.map((d) => ({ path: `partitions/${d.file}.sfdisk`, content: sfdiskScript(d, layout.firmware) }))],
    guestFiles: [],
  };
}

/** The fstab the disk builder writes into a Linux guest, with example UUIDs (the build gives the file systems their own). */
export function renderLinuxVmFstab(layout: VmLayout): string {
  return renderVmFstab(layout, chooseUuids(layout, 'vmgen-render'));
}
