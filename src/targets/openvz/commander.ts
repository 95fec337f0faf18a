import { join } from 'node:path';
import { archiveTools, writeArchive } from '../../archive/write.js';
import { writeStageFiles } from '../stage.js';
import type { Commander } from '../types.js';
import { DEFAULT_CTID, ostemplateName, renderOpenvz } from './render.js';
import { openvzRunCommands } from './run.js';

/**
 * OpenVZ: the OS template cache tarball (what vzctl create --ostemplate extracts) and the
 * container's CTID.conf, side by side. OpenVZ owns the NICs (venet, IP_ADDRESS).
 */
export const openvzCommander: Commander = {
  nicOwner: 'target',
  formats: ['tar', 'tar.zst', 'tar.gz'],
  render: (spec, options = {}) => renderOpenvz(spec, { ctid: options.ctid ?? DEFAULT_CTID, ostemplate: ostemplateName(spec) }),
  // The template inside is always a tar.gz, whatever the outer format.
  hostTools: (format) => [...new Set([...archiveTools('tar.gz'), ...archiveTools(format)])],
  async package(ctx) {
    const template = `${ostemplateName(ctx.spec)}.tar.gz`;
    // The template is what vzctl reads: a gzip tarball of the root, entries relative to it.
    await writeArchive('tar.gz', join(ctx.stageDir, template), join(ctx.stageDir, 'rootfs'), ['.'], {
      signal: ctx.signal, progress: (f) => ctx.progress(f * 0.95), ...(ctx.expectedBytes === undefined ? {} : { expectedBytes: ctx.expectedBytes }),
    });
    const render = openvzCommander.render(ctx.spec, ctx.options);
    const names = await writeStageFiles(ctx.stageDir, render.archiveFiles);
    await writeArchive(ctx.format, ctx.output, ctx.stageDir, [...names, template], { signal: ctx.signal });
  },
  run: openvzRunCommands,
};

