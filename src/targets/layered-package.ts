import { link, lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { isUnder, layerPartApplies, splitDelta, WHOLE_DIRS, writeJoinedArchive } from '../archive/layered.js';
import { checkpointCounter, type TarFormat } from '../archive/write.js';
import { readOverlayDelta } from '../disks/overlay-delta.js';
import type { Packed, PackageContext, PrepareContext } from './types.js';

/**
 * Packs a container's archive as the cached layer's part joined with this build's own (see
 * src/archive/layered.ts) when it can: the build ran on an overlay of a cached layer, the driver
 * keeps layer parts and the format's parts can be joined. Returns undefined when the caller must
 * pack the root whole. `stageNames` are the archive's top-level files, beside `rootName` in `stageDir`.
 * With `ctx.headPath`, the layer's part is linked there rather than copied (when the file system
 * lets it be), and `output` holds only the build's part.
 */
export async function packLayered(ctx: PackageContext, stageNames: readonly string[], rootName = 'rootfs'): Promise<Packed | undefined> {
  const { base, layerParts } = ctx;
  if (base?.upper === undefined || layerParts === undefined) return undefined;
  const format = ctx.format as TarFormat;
  const merged = join(ctx.stageDir, rootName);
  const whole = await realDirs(merged, WHOLE_DIRS);
  const delta = splitDelta(await readOverlayDelta({ upper: base.upper, lower: base.layerRootfs, merged }), whole);
  const req = { layerKey: base.layerKey, layerRootfs: base.layerRootfs, format, rootName, exclude: delta.exclude };
  if (!layerPartApplies(req)) return undefined;
  const part = await layerParts.ensure(req, {
    signal: ctx.signal, log: ctx.log ?? (() => {}),
    onStderr: checkpointCounter({ progress: (f) => ctx.progress(f * 0.95), ...(ctx.expectedBytes === undefined ? {} : { expectedBytes: ctx.expectedBytes }) }),
  });
  // A hard link: the cache's file stays as it is (it is replaced, never changed), and another
  // file system or a refused link (not the caller's file) means a copy, as without headPath.
  const headApart = ctx.headPath !== undefined && (await link(part.path, ctx.headPath).then(() => true, () => false));
  await writeJoinedArchive({
    ...(headApart ? {} : { layerPart: part.path }), format, output: ctx.output, stage: { dir: ctx.stageDir, names: stageNames },
    upper: base.upper, copies: delta.copies, rootName, whole, signal: ctx.signal,
  });
  ctx.log?.(`archive: the layer's part (${part.made ? 'packed by this build' : 'cached'}${headApart ? ', kept apart' : ''}), ${whole.map((d) => `/${d}`).join(', ')} and ${delta.copies.length} other entr${delta.copies.length === 1 ? 'y' : 'ies'} this build wrote`);
  return { headApart };
}

/**
 * Starts packing the layer's part as soon as the layer is there, while the guest is configured:
 * the part a build that changes nothing outside the whole directories will ask for. A build that
 * does change more asks for another part at packing time, and this one is kept for the next.
 */
export async function prepareLayered(ctx: PrepareContext, rootName = 'rootfs'): Promise<void> {
  const format = ctx.format as TarFormat;
  const whole = await realDirs(ctx.layerRootfs, WHOLE_DIRS);
  const req = { layerKey: ctx.layerKey, layerRootfs: ctx.layerRootfs, format, rootName, exclude: whole };
  if (ctx.layerParts === undefined || !layerPartApplies(req)) return;
  if (ctx.unpublished === undefined) {
    await ctx.layerParts.ensure(req, { signal: ctx.signal, log: ctx.log });
    return;
  }
  // A layer still being prepared: the part is packed now without what the preparation writes, which
  // is appended once it has ended; what it writes in the directories the part leaves out anyway
  // needs nothing. (A whole directory missing now and made by the preparation would change what the
  // part is asked for later: that part is then packed again, nothing worse.)
  const writes = ctx.unpublished.writes.map((w) => posix.normalize(w).replace(/^\/+|\/+$/g, ''));
  if (writes.some((w) => w === '' || w === '.' || w.split('/').includes('..'))) return;
  const later = [...new Set(writes.filter((w) => !isUnder(w, whole)))];
  await ctx.layerParts.packUnpublished(req, ctx.unpublished.parts, { dirs: later, ready: ctx.unpublished.prepared }, { signal: ctx.signal, log: ctx.log });
}

/** Those of `dirs` that are real directories below `root` (not links, which tar would not follow). */
async function realDirs(root: string, dirs: readonly string[]): Promise<string[]> {
  const found = await Promise.all(dirs.map(async (d) => ((await lstat(join(root, d)).catch(() => undefined))?.isDirectory() ? d : undefined)));
  return found.filter((d): d is string => d !== undefined);
}
