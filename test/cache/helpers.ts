import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerKey, type LayerKeyParts, type LayerKind } from '../../src/cache/key.js';
import { LayerCache, type LayerMeta } from '../../src/cache/store.js';

/** Layers, caches and producers the cache's store and prune tests share. */
export const baseParts: LayerKeyParts = {
  distribution: 'debian', release: '12', suite: 'bookworm', arch: 'amd64',
  mirror: 'http://mirror.example/debian', packages: ['systemd'], variant: 'minbase', recipe: 1,
};

export function layer(kind: LayerKind, packages: string[] = baseParts.packages as string[]): { key: string; meta: LayerMeta } {
  const parts = { ...baseParts, packages };
  return { key: layerKey(kind, parts), meta: { kind, parts } };
}

export async function tempCache(): Promise<LayerCache> {
  return new LayerCache(await mkdtemp(join(tmpdir(), 'vmgen-cache-')), { staleMs: 2000, maxWaitMs: 30_000 });
}

export const writeHello = async (rootfs: string): Promise<void> => writeFileSync(join(rootfs, 'hello'), 'hello\n');

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
