import { canonicalJson, layerKey } from '../cache/key.js';
import type { LayerCache } from '../cache/store.js';
import { VmgenError } from '../errors.js';
import { layerPartFile, writeLayerPart, type LayerPartRequest, type LayerParts } from './layered.js';

/** Bumped whenever the way layer parts are made changes. */
export const LAYER_PART_RECIPE = 1;

type Found = { path: string; made: boolean };

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
      const exclude = [...new Set(req.exclude)].sort();
      const parts = {
        ...layer.meta.parts,
        variant: `tar+${canonicalJson({ layer: req.layerKey, format: req.format, root: req.rootName, exclude })}`,
        recipe: LAYER_PART_RECIPE,
      };
      const key = layerKey('tar', parts);
      const running = inflight.get(key);
      if (running) return running;
      const finding = (async (): Promise<Found> => {
        const filled = await cache.fill(key, { kind: 'tar', parts, baseKey: req.layerKey },
          (dir, signal) => writeLayerPart({ ...req, layerRootfs: layer.rootfs, exclude }, layerPartFile(dir, req.format), {
            signal, ...(ctx.onStderr ? { onStderr: ctx.onStderr } : {}),
          }),
          { signal: ctx.signal, onWait: () => ctx.log(`another build is packing layer part ${key}; waiting for it`) });
        ctx.log(`layer part ${key}: ${filled.filled ? 'packed from the layer' : 'cached'}, without ${exclude.length} path${exclude.length === 1 ? '' : 's'} (${exclude.slice(0, 3).map((p) => `/${p}`).join(', ')}${exclude.length > 3 ? ', …' : ''})`);
        return { path: layerPartFile(filled.layer.rootfs, req.format), made: filled.filled };
      })();
      inflight.set(key, finding);
      // A failed or cancelled ask is not remembered: the next one tries again.
      finding.catch(() => inflight.delete(key));
      return finding;
    },
  };
}
