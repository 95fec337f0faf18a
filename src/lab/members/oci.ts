import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { VmgenError } from '../../errors.js';
import { writeJsonBlob, writeLayerBlob, type OciLayerBlob } from '../../targets/oci/layer.js';
import { canonicalJson, ociImageConfig, ociIndexOf, ociLayout, ociManifest, ociPlatform, ociRefEntry, MEDIA_TYPES } from '../../targets/oci/render.js';
import { labBaseId, labMachineDir } from '../manifest.js';
import type { MemberPackRow } from './types.js';

/*
 * An OCI member: its image as two layers, the package set's base layer (the cached layer's root
 * file system, shared by digest with every machine of that package set) and its own top layer
 * (the overlay's upper directory, whiteouts made OCI's). machines/NAME in the member holds
 *   blobs/DIGEST…   the top layer, the image config and the manifest
 *   image.json      the manifest's entry for index.json, ref name NAME
 * and the base layer's blob is the member's base. The lab's archive holds one image layout, oci/,
 * that `finish` makes from every member's blobs.
 */

const BLOBS = 'oci/blobs/sha256';
/** The layout's directory at the archive's top (lab.json's manifest.ts names it); `lab up` copies each machine's image from it. */
export const LAB_OCI_LAYOUT = dirname(dirname(BLOBS));
const LAYOUT = LAB_OCI_LAYOUT;
const LAYER_FILE = 'layer.json';

const baseLayerSchema = z.object({
  digest: z.string().regex(/^sha256:[a-f0-9]{64}$/),
  size: z.number().int().nonnegative(),
  diffId: z.string().regex(/^sha256:[a-f0-9]{64}$/),
}).strict();

const hexOf = (digest: string): string => digest.slice('sha256:'.length);
const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

/**
 * The base layer of a cached layer, made once per host and kept beside it (LAYERDIR/oci-layer/:
 * the blob by its digest and layer.json), removed with the layer when the cache prunes it. Two
 * builds making it at once write the same bytes, so whichever rename lands last changes nothing.
 */
export async function sharedBaseLayer(layerRootfs: string, signal: AbortSignal): Promise<{ dir: string; layer: OciLayerBlob }> {
  const dir = join(dirname(layerRootfs), 'oci-layer');
  const meta = join(dir, LAYER_FILE);
  const known = await readFile(meta, 'utf8').then((t) => baseLayerSchema.safeParse(JSON.parse(t)), () => undefined);
  if (known?.success === true && await exists(join(dir, hexOf(known.data.digest)))) return { dir, layer: known.data };
  await mkdir(dir, { recursive: true });
  const layer = await writeLayerBlob(layerRootfs, dir, { signal });
  const tmp = `${meta}.${process.pid}.partial`;
  await writeFile(tmp, `${JSON.stringify(layer)}\n`);
  await rename(tmp, meta);
  return { dir, layer };
}

const layerDescriptor = (l: OciLayerBlob): { mediaType: string; digest: string; size: number } => ({ mediaType: MEDIA_TYPES.layerGzip, digest: l.digest, size: l.size });

export const ociMember: MemberPackRow = {
  labFormat: 'tar',
  baseEntryPath: (_id, entry) => `${BLOBS}/${entry}`,
  async pack(ctx, { machine, machineDir }) {
    const base = ctx.base;
    if (base?.upper === undefined) {
      throw new VmgenError('VMG_UNSUPPORTED', `${machine.name}: a lab's OCI machine needs an overlay mount over its layer, and this host made a copy`,
        { hint: 'build labs as root on a kernel with overlayfs' });
    }
    const shared = await sharedBaseLayer(base.layerRootfs, ctx.signal);
    ctx.progress(0.5);
    const blobs = join(machineDir, 'blobs');
    await mkdir(blobs, { recursive: true });
    const top = await writeLayerBlob(base.upper, blobs, { overlay: true, signal: ctx.signal });
    // The image is named after the lab's machine whatever vm_id the entry's config carries.
    const spec = { ...ctx.spec, name: machine.name };
    const config = await writeJsonBlob(blobs, ociImageConfig(spec, { diffIds: [shared.layer.diffId, top.diffId], created: new Date().toISOString() }));
    const manifest = await writeJsonBlob(blobs, ociManifest({ mediaType: MEDIA_TYPES.config, ...config }, [layerDescriptor(shared.layer), layerDescriptor(top)]));
    const entry = ociRefEntry({ mediaType: MEDIA_TYPES.manifest, ...manifest, platform: ociPlatform(spec) }, machine.name);
    await writeFile(join(machineDir, 'image.json'), `${canonicalJson(entry)}\n`);
    ctx.progress(1);
    return {
      files: { image: 'image.json' },
      base: { id: labBaseId(base.layerKey), layerKey: base.layerKey, source: shared.dir, entries: [hexOf(shared.layer.digest)] },
    };
  },
  async finish(staging, machines) {
    const blobs = join(staging, BLOBS);
    await mkdir(blobs, { recursive: true });
    const entries = [];
    for (const name of machines) {
      const dir = join(staging, labMachineDir(name));
      // Re-made through ociRefEntry: a member built elsewhere is checked, not trusted.
      const given = JSON.parse(await readFile(join(dir, 'image.json'), 'utf8')) as { mediaType: string; digest: string; size: number; platform?: { architecture: string; os: string } };
      const entry = ociRefEntry({ mediaType: given.mediaType, digest: given.digest, size: given.size, ...(given.platform ? { platform: given.platform } : {}) }, name);
      for (const f of await readdir(join(dir, 'blobs'))) {
        if (!/^[a-f0-9]{64}$/.test(f)) throw new VmgenError('VMG_BUILD', `${name}: ${f} in its member's blobs is not a sha256 digest`);
        await rename(join(dir, 'blobs', f), join(blobs, f));
      }
      await rm(join(dir, 'blobs'), { recursive: true, force: true });
      if (!await exists(join(blobs, hexOf(entry.digest)))) throw new VmgenError('VMG_BUILD', `${name}: its member has no manifest blob ${entry.digest}`);
      entries.push(entry);
    }
    await writeFile(join(staging, LAYOUT, 'index.json'), canonicalJson(ociIndexOf(entries)));
    await writeFile(join(staging, LAYOUT, 'oci-layout'), ociLayout());
    return [LAYOUT];
  },
};
