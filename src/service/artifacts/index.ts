import type { ArtifactStore } from '../types.js';
import { DirArtifactStore } from './dir.js';
import { parseS3Url, S3ArtifactStore } from './s3.js';

export { artifactKey, checkKey } from './key.js';
export { DirArtifactStore } from './dir.js';
export { parseS3Url, S3ArtifactStore } from './s3.js';

export type ArtifactStoreOptions = { dir: string } | { s3: string; endpoint?: string };

/** A directory (shared by the server and workers) or an S3 bucket: `{dir}` or `{s3: 's3://bucket/prefix', endpoint?}`. */
export function createArtifactStore(opts: ArtifactStoreOptions): ArtifactStore {
  if ('s3' in opts) {
    // The SDK's own variables for an S3-compatible server, read here too because such a server needs path-style addressing.
    const endpoint = opts.endpoint ?? (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined);
    return new S3ArtifactStore(parseS3Url(opts.s3), endpoint ? { endpoint } : {});
  }
  return new DirArtifactStore(opts.dir);
}

/** What a command line names: `s3://…` is a bucket, anything else a directory. */
export function artifactStoreFromArg(arg: string, endpoint?: string): ArtifactStore {
  return arg.startsWith('s3://') ? createArtifactStore({ s3: arg, ...(endpoint ? { endpoint } : {}) }) : createArtifactStore({ dir: arg });
}
