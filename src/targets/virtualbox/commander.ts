import { packageOva } from '../ovf/package.js';
import type { Commander } from '../types.js';
import { isoNames, renderVmCommon } from '../vm/common.js';
import { renderOvf } from './render.js';
import { virtualboxRunCommands } from './run.js';

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
  package: (ctx) => packageOva(ctx, renderOvf),
  run: virtualboxRunCommands,
};

