import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeArchive } from '../../archive/write.js';
import type { Commander } from '../types.js';
import { convertImages, isoNames, placeIsos, renderVmCommon } from '../vm/common.js';
import { vmLimits, type TargetLimits } from '../limits.js';
import { MAX_NICS, renderManifest, renderOvf } from './render.js';

/** VirtualBox's eight adapters, and the one SATA, SCSI and NVMe controller its OVF import creates (IDE has two channels). */
export const virtualboxLimits: TargetLimits['check'] = (config, os, report) =>
  vmLimits(config, os, report, { label: 'VirtualBox', maxNics: MAX_NICS, singleController: ['sata', 'scsi', 'nvme'] });

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * VirtualBox: an OVA — the OVF descriptor first, its manifest of SHA-256 digests, then
 * streamOptimized VMDKs — which VirtualBox's appliance import reads. What plain OVF cannot say
 * (UEFI, MAC addresses) is in the descriptor's annotation as the VBoxManage command to run after import.
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
    const name = ctx.spec.name;
    const files = await convertImages(images, layout, dir, 'vmdk', ctx.signal, { subformat: 'streamOptimized' });
    const { names: isoFiles, shipped } = await placeIsos(layout, dir);
    const disks = await Promise.all(layout.disks.map(async (d) => ({
      name: d.name, file: files[d.name]!, capacityBytes: d.sizeMiB * 1024 * 1024, fileBytes: (await stat(join(dir, files[d.name]!))).size,
    })));
    const ovf = `${name}.ovf`;
    await writeFile(join(dir, ovf), renderOvf(ctx.spec, layout, { disks, isoFiles }));
    const members = [ovf, ...disks.map((d) => d.file), ...shipped];
    const digests = await Promise.all(members.map(async (m) => ({ name: m, sha256: await sha256(join(dir, m)) })));
    const mf = `${name}.mf`;
    await writeFile(join(dir, mf), renderManifest(digests));
    await writeArchive('ova', ctx.output, dir, [ovf, mf, ...members.slice(1)], { signal: ctx.signal });
  },
};
