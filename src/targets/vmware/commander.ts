import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeArchive } from '../../archive/write.js';
import { packageOva } from '../ovf/package.js';
import type { Commander } from '../types.js';
import { convertImages, isoNames, placeIsos, renderVmCommon } from '../vm/common.js';
import { renderVmwareOvf } from './ovf.js';
import { renderVmx } from './render.js';
import { vmwareRunCommands } from './run.js';

/**
 * VMware: NAME.vmx and monolithicSparse .vmdk disks (the seed's chapter 4), plus ISOs the user asked
 * to ship; or, with `-f ova`, an appliance for ESXi and vSphere (ovf.ts) whose disks are
 * streamOptimized, the only VMDK kind an OVF may carry. `vmgen render` writes both descriptions.
 */
export const vmwareCommander: Commander = {
  nicOwner: 'guest',
  // Plain tar first, as OVA and the field's image builders ship disks: the disk format is already
  // sparse, and compressing a VM's disks takes longer than making them from the cache.
  formats: ['tar', 'tar.zst', 'tar.gz', 'zip', 'ova'],
  diskFormat: 'vmdk',
  // The preview cannot know the appliance's file sizes; it shows 0 where the build writes them.
  render: (spec, _options, layout) => renderVmCommon(layout ? [
    { path: `${spec.name}.vmx`, content: renderVmx(spec, layout, { diskFiles: Object.fromEntries(layout.disks.map((d) => [d.name, `${d.file}.vmdk`])), isoFiles: isoNames(layout) }) },
    {
      path: `${spec.name}.ovf`,
      content: renderVmwareOvf(spec, layout, {
        disks: layout.disks.map((d) => ({ name: d.name, file: `${d.file}.vmdk`, capacityBytes: d.sizeMiB * 1024 * 1024, fileBytes: 0 })),
        isoFiles: isoNames(layout),
      }),
    },
  ] : [], layout),
  async package(ctx) {
    if (ctx.format === 'ova') return packageOva(ctx, renderVmwareOvf);
    const { layout, images } = ctx.vm!;
    const dir = join(ctx.stageDir, 'vm');
    const diskFiles = await convertImages(images, layout, dir, 'vmdk', ctx.signal, { subformat: 'monolithicSparse' });
    const { names: isoFiles, shipped } = await placeIsos(layout, dir);
    const vmx = `${ctx.spec.name}.vmx`;
    await writeFile(join(dir, vmx), renderVmx(ctx.spec, layout, { diskFiles, isoFiles }));
    await writeArchive(ctx.format, ctx.output, dir, [vmx, ...Object.values(diskFiles), ...shipped], { signal: ctx.signal });
  },
  run: vmwareRunCommands,
};

