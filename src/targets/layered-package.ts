import { join } from 'node:path';
import { layerPartApplies, writeJoinedArchive } from '../archive/layered.js';
import { checkpointCounter, type TarFormat } from '../archive/write.js';
import { readOverlayDelta } from '../disks/overlay-delta.js';
import type { PackageContext } from './types.js';

/**
 * Packs a container's archive as the cached layer's part joined with this build's own (see
 * src/archive/layered.ts) when it can: the build ran on an overlay of a cached layer, the driver
 * keeps layer parts and the format's parts can be joined. Returns false when the caller must pack
 * the root whole. `stageNames` are the archive's top-level files, beside `rootName` in `stageDir`.
 */
export async function packLayered(ctx: PackageContext, stageNames: readonly string[], rootName = 'rootfs'): Promise<boolean> {
  const { base, layerParts } = ctx;
  if (base?.upper === undefined || layerParts === undefined) return false;
  const format = ctx.format as TarFormat;
  const merged = join(ctx.stageDir, rootName);
  const delta = await readOverlayDelta({ upper: base.upper, lower: base.layerRootfs, merged });
  const req = { layerKey: base.layerKey, layerRootfs: base.layerRootfs, format, rootName, exclude: [...delta.deletions, ...delta.overwritten] };
  if (!layerPartApplies(req)) return false;
  const part = await layerParts.ensure(req, {
    signal: ctx.signal, log: ctx.log ?? (() => {}),
    onStderr: checkpointCounter({ progress: (f) => ctx.progress(f * 0.95), ...(ctx.expectedBytes === undefined ? {} : { expectedBytes: ctx.expectedBytes }) }),
  });
  await writeJoinedArchive({
    layerPart: part.path, format, output: ctx.output, stage: { dir: ctx.stageDir, names: stageNames },
    upper: base.upper, copies: delta.copies, rootName, signal: ctx.signal,
  });
  ctx.log?.(`archive: the layer's part (${part.made ? 'packed now' : 'cached'}) and ${delta.copies.length} entr${delta.copies.length === 1 ? 'y' : 'ies'} this build wrote`);
  return true;
}
