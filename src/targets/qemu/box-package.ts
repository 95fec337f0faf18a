import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeArchive } from '../../archive/write.js';
import { run } from '../../exec/run.js';
import type { PackageContext } from '../types.js';
import { convertImages } from '../vm/common.js';
import { BOX_METADATA, BOX_VAGRANTFILE, boxDisks, renderBoxMetadata, renderBoxVagrantfile } from './box.js';

/**
 * Packs a Vagrant box (box.ts says what it holds) into ctx.output, the build's temporary name,
 * which the publish step renames into place once it is complete.
 */
export async function packageBox(ctx: PackageContext): Promise<void> {
  const { layout, images } = ctx.vm!;
  const dir = join(ctx.stageDir, 'box');
  const disks = boxDisks(layout);
  const converted = await convertImages(images, layout, dir, 'qcow2', ctx.signal);
  for (const { disk, path } of disks) {
    await rename(join(dir, converted[disk.name]!), join(dir, path));
    await assertStandalone(join(dir, path), ctx.signal);
  }
  await writeFile(join(dir, BOX_METADATA), renderBoxMetadata(disks.map(({ disk, path }) => ({ path, sizeMiB: disk.sizeMiB }))));
  await writeFile(join(dir, BOX_VAGRANTFILE), renderBoxVagrantfile(ctx.spec));
  await writeArchive('box', ctx.output, dir, [BOX_METADATA, BOX_VAGRANTFILE, ...disks.map((d) => d.path)], { signal: ctx.signal });
}

/**
 * vagrant-libvirt uploads each image into its storage pool as is and makes the machine's disk an
 * overlay of it, so an image must not name a backing file of its own (one that exists only here).
 */
async function assertStandalone(path: string, signal: AbortSignal): Promise<void> {
  const info = JSON.parse((await run(['qemu-img', 'info', '--output=json', path], { signal })).stdout) as { format?: string; 'backing-filename'?: string };
  if (info.format !== 'qcow2' || info['backing-filename'] !== undefined) {
    throw new Error(`${path}: a box's image must be a qcow2 without a backing file (format ${info.format}, backing file ${info['backing-filename'] ?? 'none'})`);
  }
}
