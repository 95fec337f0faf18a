import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { spawnStream } from '../../exec/stream.js';
import { canonicalJson } from './render.js';
import { whiteoutTransform } from './whiteouts.js';

/** A blob of the layout: its digest (sha256:…) and size. */
export interface OciBlob {
  digest: string;
  size: number;
}

/** A layer blob and its diff_id, the digest of the uncompressed tar. */
export interface OciLayerBlob extends OciBlob {
  diffId: string;
}

/** Counts and hashes bytes passing through, without holding them. */
export function tap(): Transform & { digest(): string; size(): number } {
  const hash = createHash('sha256');
  let size = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  }) as Transform & { digest(): string; size(): number };
  let digest: string | undefined;
  t.digest = () => (digest ??= `sha256:${hash.digest('hex')}`);
  t.size = () => size;
  return t;
}

/**
 * tar's argv for a layer that is the same bytes whenever the tree is the same: entries sorted by
 * name, owners as numbers, pax headers without the process id in their names and without access
 * or change times (which reading the tree itself changes); modes and mtimes as the tree has them.
 * `overlay`: the tree is an overlay's upper directory, whose attributes the whiteout rewriter reads.
 */
export function layerTarArgv(dir: string, opts: { overlay?: boolean } = {}): [string, ...string[]] {
  return [
    'tar', '--format=posix', '--sort=name', '--numeric-owner',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '--xattrs', '--xattrs-include=security.capability',
    ...(opts.overlay === true ? ['--xattrs-include=trusted.overlay.*', '--xattrs-include=user.overlay.*'] : []),
    '-C', dir, '-cf', '-', '.',
  ];
}

/**
 * The one compressor of lab layers: gzip -n (no name, no time) at a fixed level, never pigz, whose
 * output differs from gzip's: a base layer's blob digest must be the same on every host that
 * builds a member of the lab.
 */
export const LAYER_GZIP: readonly [string, ...string[]] = ['gzip', '-n', '-6'];

/**
 * Writes the tree `dir` as one gzip layer blob into `blobs` (named by its digest). An overlay's
 * upper directory has its whiteouts turned into OCI's on the way (whiteouts.ts).
 */
export async function writeLayerBlob(dir: string, blobs: string, opts: { overlay?: boolean; signal?: AbortSignal } = {}): Promise<OciLayerBlob> {
  const tmp = join(blobs, `.layer.${process.pid}.${Date.now()}.partial`);
  const signal = opts.signal ?? new AbortController().signal;
  const tar = spawnStream(layerTarArgv(dir, opts), { signal });
  tar.stdin.end();
  const gzip = spawnStream([...LAYER_GZIP], { signal });
  const raw = tap();
  const packed = tap();
  const stages = opts.overlay === true ? [whiteoutTransform()] : [];
  try {
    await Promise.all([
      pipeline([tar.stdout, ...stages, raw, gzip.stdin], { signal }),
      pipeline(gzip.stdout, packed, createWriteStream(tmp), { signal }),
      tar.done, gzip.done,
    ]);
    const digest = packed.digest();
    await rename(tmp, join(blobs, digest.slice('sha256:'.length)));
    return { digest, size: packed.size(), diffId: raw.digest() };
  } finally {
    await rm(tmp, { force: true });
  }
}

/** A JSON document (config, manifest) as a blob, in canonical form so that equal documents are equal blobs. */
export async function writeJsonBlob(blobs: string, doc: unknown): Promise<OciBlob> {
  const text = canonicalJson(doc);
  const digest = `sha256:${createHash('sha256').update(text).digest('hex')}`;
  await writeFile(join(blobs, digest.slice('sha256:'.length)), text);
  return { digest, size: Buffer.byteLength(text) };
}
