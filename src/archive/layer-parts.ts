import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { canonicalJson, layerKey, normalizeParts, type LayerKeyParts } from '../cache/key.js';
import type { LayerCache } from '../cache/store.js';
import { VmgenError } from '../errors.js';
import { layerPartFile, writeLayerPart, type LayerPartRequest, type LayerParts } from './layered.js';

/** Bumped whenever the way layer parts are made changes. */
export const LAYER_PART_RECIPE = 1;

type Found = { path: string; made: boolean };

/** The part's cache key and key parts, from its layer's key parts and the request. */
function partKey(layerParts: LayerKeyParts, req: LayerPartRequest): { key: string; parts: LayerKeyParts; exclude: string[] } {
  const exclude = [...new Set(req.exclude)].sort();
  const parts = {
    ...normalizeParts(layerParts),
    variant: `tar+${canonicalJson({ layer: req.layerKey, format: req.format, root: req.rootName, exclude })}`,
    recipe: LAYER_PART_RECIPE,
  };
  return { key: layerKey('tar', parts), parts, exclude };
}

/** Where a part packed before its layer was published waits, in the layer's directory beside its root. */
function unpublishedPartFile(layerRootfs: string, key: string): string {
  return join(dirname(layerRootfs), 'parts', key);
}

/**
 * Layer parts kept in the layer cache beside the layer they come from (kind `tar`), so pruning
 * and the cache's listing treat them like the disk sets: made once, under the cache's lock, and
 * published only when whole. A part being packed (started early by a packer's prepare) is what a
 * later ask for it in the same build gets, as this build's.
 */
export function layerParts(cache: LayerCache): LayerParts {
  const inflight = new Map<string, Promise<Found>>();
  return {
    async ensure(req: LayerPartRequest, ctx) {
      const layer = await cache.get(req.layerKey);
      if (!layer) throw new VmgenError('VMG_BUILD', `layer ${req.layerKey} vanished from the cache during the build`);
      const { key, parts, exclude } = partKey(layer.meta.parts, req);
      const running = inflight.get(key);
      if (running) return running;
      const finding = (async (): Promise<Found> => {
        let early = false;
        const filled = await cache.fill(key, { kind: 'tar', parts, baseKey: req.layerKey },
          async (dir, signal) => {
            // Packed while the layer was being made: taken as it is (rename fails when there is none).
            const waiting = unpublishedPartFile(layer.rootfs, key);
            early = await rename(waiting, layerPartFile(dir, req.format)).then(() => true, () => false);
            if (early) {
              await rmdir(dirname(waiting)).catch(() => {});
              return;
            }
            await writeLayerPart({ ...req, layerRootfs: layer.rootfs, exclude }, layerPartFile(dir, req.format), {
              signal, ...(ctx.onStderr ? { onStderr: ctx.onStderr } : {}),
            });
          },
          { signal: ctx.signal, onWait: () => ctx.log(`another build is packing layer part ${key}; waiting for it`) });
        ctx.log(`layer part ${key}: ${filled.filled ? (early ? 'packed while the layer was made' : 'packed from the layer') : 'cached'}, without ${exclude.length} path${exclude.length === 1 ? '' : 's'} (${exclude.slice(0, 3).map((p) => `/${p}`).join(', ')}${exclude.length > 3 ? ', …' : ''})`);
        return { path: layerPartFile(filled.layer.rootfs, req.format), made: filled.filled };
      })();
      inflight.set(key, finding);
      // A failed or cancelled ask is not remembered: the next one tries again.
      finding.catch(() => inflight.delete(key));
      return finding;
    },
    async packUnpublished(req, layerParts, later, ctx) {
      const { key, exclude } = partKey(layerParts, req);
      const dest = unpublishedPartFile(req.layerRootfs, key);
      const tmp = `${dest}.${randomBytes(6).toString('hex')}.tmp`;
      await mkdir(dirname(dest), { recursive: true });
      try {
        await writeLayerPart({ ...req, exclude: [...exclude, ...later.dirs] }, tmp, { signal: ctx.signal });
        await later.ready;
        const present = [];
        for (const d of later.dirs) if (await lstat(join(req.layerRootfs, d)).then(() => true, () => false)) present.push(d);
        if (present.length > 0) await writeLayerPart({ ...req, exclude }, tmp, { signal: ctx.signal, members: present, append: true });
        await rename(tmp, dest);
      } finally {
        await rm(tmp, { force: true });
      }
      ctx.log(`layer part ${key}: packed beside the layer's preparation${later.dirs.length > 0 ? `, ${later.dirs.map((d) => `/${d}`).join(', ')} once it ended` : ''}`);
    },
  };
}
