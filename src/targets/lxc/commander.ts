import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { archiveTools, writeArchive } from '../../archive/write.js';
import { writeStageFiles } from '../stage.js';
import { packLayered, prepareLayered } from '../layered-package.js';
import type { Commander, PackageContext } from '../types.js';
import { LXC_IMAGE_FILES, LXC_IMAGE_META_DIR, renderLxc, renderLxcExcludesUser } from './render.js';
import { lxcRunCommands } from './run.js';

/**
 * LXC, two layouts:
 * - tar.zst, tar.gz, tar: `config`, `fstab` and `rootfs/` at the archive's top level, so that
 *   `tar -xf ARCHIVE -C DIR/NAME && lxc-start -n NAME -P DIR` starts it. LXC reads only absolute
 *   rootfs and fstab paths, so DIR is chosen at build time (--lxc-path, default /var/lib/lxc).
 * - image.tar: an LXC image, `meta.tar.xz` and `rootfs.tar.xz` as distrobuilder makes them, which
 *   `lxc-create -t local` turns into a container under any directory chosen later.
 * LXC owns the NICs.
 */
export const lxcCommander: Commander = {
  nicOwner: 'target',
  formats: ['tar.zst', 'tar.gz', 'tar', 'image.tar'],
  render: (spec, options = {}) => renderLxc(spec, options.lxcPath === undefined ? {} : { lxcPath: options.lxcPath }),
  // lxc-local unpacks both tarballs with `tar -J`: xz, whatever the outer format.
  hostTools: (format) => (format === 'image.tar' ? [...archiveTools('tar.xz'), ...archiveTools(format)] : archiveTools(format)),
  async package(ctx) {
    const files = lxcCommander.render(ctx.spec, ctx.options).archiveFiles;
    if (ctx.format === 'image.tar') {
      await packageImage(ctx, files.filter((f) => f.path.startsWith(`${LXC_IMAGE_META_DIR}/`)));
      return;
    }
    const names = await writeStageFiles(ctx.stageDir, files.filter((f) => !f.path.startsWith(`${LXC_IMAGE_META_DIR}/`)));
    const layered = await packLayered(ctx, names);
    if (layered) return layered;
    await writeArchive(ctx.format, ctx.output, ctx.stageDir, [...names, 'rootfs'], {
      signal: ctx.signal, progress: ctx.progress, ...(ctx.expectedBytes === undefined ? {} : { expectedBytes: ctx.expectedBytes }),
    });
  },
  prepare: (ctx) => prepareLayered(ctx),
  run: lxcRunCommands,
};

/** meta.tar.xz (config, config-user, fstab, create-message, excludes-user) and rootfs.tar.xz of `.`, as lxc-local reads them, in one tar. */
async function packageImage(ctx: PackageContext, metaFiles: ReadonlyArray<{ path: string; content: string; mode?: number }>): Promise<void> {
  const rootfs = join(ctx.stageDir, 'rootfs');
  const excludes = renderLxcExcludesUser(await deviceNodes(rootfs, 'dev'));
  const names = await writeStageFiles(ctx.stageDir, [...metaFiles, { path: `${LXC_IMAGE_META_DIR}/excludes-user`, content: excludes, mode: 0o644 }]);
  const metaDir = join(ctx.stageDir, names[0]!);
  await writeArchive('tar.xz', join(ctx.stageDir, LXC_IMAGE_FILES.meta), metaDir, (await readdir(metaDir)).sort(), { signal: ctx.signal });
  await writeArchive('tar.xz', join(ctx.stageDir, LXC_IMAGE_FILES.rootfs), rootfs, ['.'], {
    signal: ctx.signal, progress: (f) => ctx.progress(f * 0.97), ...(ctx.expectedBytes === undefined ? {} : { expectedBytes: ctx.expectedBytes }),
  });
  await writeArchive('image.tar', ctx.output, ctx.stageDir, [LXC_IMAGE_FILES.meta, LXC_IMAGE_FILES.rootfs], { signal: ctx.signal });
}

/** Device nodes below `rel` in the root file system, as paths relative to it. */
async function deviceNodes(root: string, rel: string): Promise<string[]> {
  const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = `${rel}/${e.name}`;
    if (e.isCharacterDevice() || e.isBlockDevice()) out.push(path);
    else if (e.isDirectory()) out.push(...(await deviceNodes(root, path)));
  }
  return out;
}

