import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { archiveTools, writeArchive } from '../../archive/write.js';
import { spawnStream } from '../../exec/stream.js';
import { findTool } from '../../exec/tools.js';
import type { Commander } from '../types.js';
import { tap, writeJsonBlob, type OciBlob } from './layer.js';
import { ociRunCommands } from './run.js';
import { canonicalJson, ociImageConfig, ociIndex, ociLayout, ociManifest, renderOci, MEDIA_TYPES } from './render.js';

type Blob = OciBlob;

/** The root file system as one gzip layer; returns the blob and the uncompressed diff_id. */
async function writeLayer(rootfs: string, blobs: string, signal: AbortSignal, progress: (f: number) => void, expected?: number): Promise<{ blob: Blob; diffId: string }> {
  const tmp = join(blobs, '.layer.partial');
  const tar = spawnStream(['tar', '--numeric-owner', '--xattrs', '--xattrs-include=security.capability', '-C', rootfs, '-cf', '-', '.'], { signal });
  const gzip = spawnStream(findTool('pigz') ? ['pigz', '-n', '-6'] : ['gzip', '-n', '-6'], { signal });
  const raw = tap();
  const packed = tap();
  raw.on('data', () => expected && progress(Math.min(0.95, raw.size() / expected)));
  await Promise.all([
    pipeline(tar.stdout, raw, gzip.stdin, { signal }),
    pipeline(gzip.stdout, packed, createWriteStream(tmp), { signal }),
    tar.done, gzip.done,
  ]);
  const digest = packed.digest();
  await rename(tmp, join(blobs, digest.slice('sha256:'.length)));
  return { blob: { digest, size: packed.size() }, diffId: raw.digest() };
}

/**
 * OCI: an image layout (oci-layout, index.json, blobs/) in a tar archive, what `skopeo copy
 * oci-archive:…` and `podman load` read. The runtime owns the network, so addresses travel in the
 * image's labels with the rest of the spec.
 */
export const ociCommander: Commander = {
  nicOwner: 'target',
  formats: ['tar'],
  render: renderOci,
  // The layer is tar piped into gzip (pigz where the host has it, else gzip).
  hostTools: (format) => [...new Set([...archiveTools(format), 'tar', 'gzip'])],
  async package(ctx) {
    const layout = join(ctx.stageDir, 'oci');
    const blobs = join(layout, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const { blob: layer, diffId } = await writeLayer(join(ctx.stageDir, 'rootfs'), blobs, ctx.signal, ctx.progress, ctx.expectedBytes);
    const config = await writeJsonBlob(blobs, ociImageConfig(ctx.spec, { diffId, created: new Date().toISOString() }));
    const manifest = await writeJsonBlob(blobs, ociManifest(
      { mediaType: MEDIA_TYPES.config, ...config },
      { mediaType: MEDIA_TYPES.layerGzip, ...layer },
    ));
    await writeFile(join(layout, 'index.json'), canonicalJson(ociIndex({ mediaType: MEDIA_TYPES.manifest, ...manifest }, `${ctx.spec.name}:latest`)));
    await writeFile(join(layout, 'oci-layout'), ociLayout());
    await stat(join(blobs, layer.digest.slice('sha256:'.length)));
    await writeArchive(ctx.format, ctx.output, layout, ['oci-layout', 'index.json', 'blobs'], { signal: ctx.signal });
  },
  run: ociRunCommands,
};

