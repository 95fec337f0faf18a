import { join } from 'node:path';
import type { Commander } from '../../targets/types.js';
import type { MemberPackRow } from './types.js';

/**
 * Targets whose lab form shares nothing yet (oci, vmware, virtualbox: "may copy disks"): the
 * machine's own single-machine archive, whole, in its directory.
 */
export function wholeMember(commander: Commander): MemberPackRow {
  return {
    labFormat: 'tar',
    async pack(ctx, { machine, machineDir }) {
      const file = `${machine.name}.${ctx.format}`;
      await commander.package({ ...ctx, output: join(machineDir, file) });
      return { files: { archive: file } };
    },
  };
}
