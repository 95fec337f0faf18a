import { join } from 'node:path';
import type { Commander } from '../../targets/types.js';
import type { MemberPackRow } from './types.js';

/**
 * The machine's own single-machine archive, whole, in its directory: what a VM member falls back
 * to when its disks have no cached base to share.
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
