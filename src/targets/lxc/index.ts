import { writeArchive } from '../../archive/write.js';
import { writeStageFiles } from '../stage.js';
import type { Commander } from '../types.js';
import { containerLimits, machineNameLimits, type TargetLimits } from '../limits.js';
import { renderLxc, SAFE_NAME } from './render.js';

export const lxcLimits: TargetLimits['check'] = (config, os, report) => {
  containerLimits(config, os, report, 'LXC');
  machineNameLimits(config, report, 'LXC', (n) => SAFE_NAME.test(n), 'a container name');
};

/**
 * LXC: `config`, `fstab` and `rootfs/` at the archive's top level, so that
 * `tar -xf ARCHIVE -C DIR/NAME && lxc-start -n NAME -P DIR` starts it. LXC reads only absolute
 * rootfs and fstab paths, so DIR is chosen at build time (--lxc-path, default /var/lib/lxc).
 * LXC owns the NICs.
 */
export const lxcCommander: Commander = {
  nicOwner: 'target',
  formats: ['tar.zst', 'tar.gz', 'tar'],
  render: (spec, options = {}) => renderLxc(spec, options.lxcPath === undefined ? {} : { lxcPath: options.lxcPath }),
  async package(ctx) {
    const names = await writeStageFiles(ctx.stageDir, lxcCommander.render(ctx.spec, ctx.options).archiveFiles);
    await writeArchive(ctx.format, ctx.output, ctx.stageDir, [...names, 'rootfs'], {
      signal: ctx.signal, progress: ctx.progress, ...(ctx.expectedBytes === undefined ? {} : { expectedBytes: ctx.expectedBytes }),
    });
  },
};
