import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmgenError } from '../../errors.js';
import { renderLxcConfig, renderLxcFstab } from '../../targets/lxc/render.js';
import { labBaseId } from '../manifest.js';
import type { MemberPackRow } from './types.js';

/**
 * An LXC member: its config and fstab, and the overlay's upper directory as `delta`, which LXC
 * stacks on the shared base itself (lxc.rootfs.path = overlay:BASE:DELTA): no root is packed.
 */
export const lxcMember: MemberPackRow = {
  labFormat: 'tar.zst',
  async pack(ctx, { machine, networks, labDir, machineDir }) {
    const base = ctx.base;
    if (base?.upper === undefined) {
      throw new VmgenError('VMG_UNSUPPORTED', `${machine.name}: a lab's LXC machine needs an overlay mount over its layer, and this host made a copy`,
        { hint: 'build labs as root on a kernel with overlayfs' });
    }
    const id = labBaseId(base.layerKey);
    const links = Object.fromEntries(machine.nics.map((n) => [n.nic, networks.find((net) => net.name === n.network)!.bridge]));
    // The container is named after the lab's machine whatever vm_id the entry's config carries.
    const config = renderLxcConfig({ ...ctx.spec, name: machine.name }, {
      lxcPath: `${labDir}/machines`, links, rootfsPath: `overlay:${labDir}/bases/${id}/rootfs:${labDir}/machines/${machine.name}/delta`,
    });
    await writeFile(join(machineDir, 'config'), config);
    await writeFile(join(machineDir, 'fstab'), renderLxcFstab({ ...ctx.spec, name: machine.name }));
    return {
      files: { config: 'config', fstab: 'fstab', delta: 'delta' },
      base: { id, layerKey: base.layerKey, source: base.layerRootfs.replace(/\/rootfs$/, ''), entries: ['rootfs'] },
      extra: [[base.upper, 'delta']],
    };
  },
};
