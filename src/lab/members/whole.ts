import { join } from 'node:path';
import { findTarget } from '../../targets/registry.js';
import type { MemberPackRow } from './types.js';

/**
 * Targets whose lab form shares nothing yet (oci, vmware, virtualbox: "may copy disks"): the
 * machine's own single-machine archive, whole, in its directory.
 */
export function wholeMember(targetId: string): MemberPackRow {
  return {
    labFormat: 'tar',
    async pack(ctx, { machine, machineDir }) {
      const commander = findTarget(targetId)?.commander;
      if (commander === undefined) throw new Error(`target ${targetId} cannot be built`);
      const file = `${machine.name}.${ctx.format}`;
      await commander.package({ ...ctx, output: join(machineDir, file) });
      return { files: { archive: file } };
    },
  };
}
