import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeOva } from '../ovf/manifest.js';
import type { Commander } from '../types.js';
import { convertImages, isoNames, placeIsos, renderVmCommon } from '../vm/common.js';
import { vmLimits, type TargetLimits } from '../limits.js';
import { MAX_NICS, renderOvf } from './render.js';

/** VirtualBox's eight adapters, and the one SATA, SCSI and NVMe controller its OVF import creates (IDE has two channels). */
export const virtualboxLimits: TargetLimits['check'] = (config, os, report) =>
  vmLimits(config, os, report, { label: 'VirtualBox', maxNics: MAX_NICS, singleController: ['sata', 'scsi', 'nvme'] });

/**
 * VirtualBox: an OVA — the OVF descriptor first, its manifest of SHA-256 digests, then
 * streamOptimized VMDKs and shipped ISOs — which VirtualBox's appliance import reads. The
 * descriptor carries VirtualBox's own machine section, so UEFI, MACs and NIC attachment come with it.
 */
export const virtualboxCommander: Commander = {
  nicOwner: 'guest',
  formats: ['ova'],
  diskFormat: 'raw',
  // The preview cannot know the VMDKs' compressed sizes; it shows 0 where the build writes them.
  render: (spec, _options, layout) => renderVmCommon(layout ? [{
    path: `${spec.name}.ovf`,
    content: renderOvf(spec, layout, {
      disks: layout.disks.map((d) => ({ name: d.name, file: `${d.file}.vmdk`, capacityBytes: d.sizeMiB * 1024 * 1024, fileBytes: 0 })),
      isoFiles: isoNames(layout),
    }),
  }] : [], layout),
  async package(ctx) {
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
      dir, name: ctx.spec.name, descriptor: renderOvf(ctx.spec, layout, { disks, isoFiles, isoBytes }),
      files: [...disks.map((d) => d.file), ...isos], output: ctx.output, signal: ctx.signal,
    });
  },
};
