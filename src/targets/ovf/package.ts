import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedSpec } from '../../config/resolve.js';
import type { VmLayout } from '../../disks/layout.js';
import type { PackageContext } from '../types.js';
import { convertImages, placeIsos } from '../vm/common.js';
import { writeOva } from './manifest.js';

/** What an OVF descriptor needs to know of the files packed beside it. */
export interface OvaContents {
  disks: Array<{ name: string; file: string; capacityBytes: number; fileBytes: number }>;
  isoFiles: Record<string, string>;
  isoBytes: Record<string, number>;
}

export type OvfDescriptor = (spec: ResolvedSpec, layout: VmLayout, contents: OvaContents) => string;

/**
 * Packs an OVA: streamOptimized VMDKs (the only VMDK kind an OVF may carry) and shipped ISOs,
 * described by the target's own descriptor, which needs their sizes, so it is rendered last.
 */
export async function packageOva(ctx: PackageContext, descriptor: OvfDescriptor): Promise<void> {
  const { layout, images } = ctx.vm!;
  const dir = join(ctx.stageDir, 'vm');
  const files = await convertImages(images, layout, dir, 'vmdk', ctx.signal, { subformat: 'streamOptimized' });
  const { names: isoFiles, shipped } = await placeIsos(layout, dir);
  const size = async (f: string) => (await stat(join(dir, f))).size;
  const disks = await Promise.all(layout.disks.map(async (d) => ({
    name: d.name, file: files[d.name]!, capacityBytes: d.sizeMiB * 1024 * 1024, fileBytes: await size(files[d.name]!),
  })));
  const isos = [...new Set(shipped)];
  const isoBytes = Object.fromEntries(await Promise.all(isos.map(async (f) => [f, await size(f)] as const)));
  await writeOva({
    dir, name: ctx.spec.name, descriptor: descriptor(ctx.spec, layout, { disks, isoFiles, isoBytes }),
    files: [...disks.map((d) => d.file), ...isos], output: ctx.output, signal: ctx.signal,
  });
}
