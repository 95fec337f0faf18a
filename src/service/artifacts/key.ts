import { VmgenError } from '../../errors.js';

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_KEY = 512;

/**
 * Keys name artifacts in every store: slash-separated segments of letters, digits, `.`, `_`, `-`,
 * none starting with a dot, so a key can never be `..`, absolute, or one of a store's own hidden
 * temp names, and means the same path on disk and object key in a bucket.
 */
export function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY || !key.split('/').every((s) => SEGMENT.test(s))) {
    throw new VmgenError('VMG_ARTIFACT_KEY', `bad artifact key ${JSON.stringify(String(key).slice(0, 80))}`);
  }
  return key;
}

/** The key a build's archive is stored under. */
export function artifactKey(buildId: string, fileName: string): string {
  return checkKey(`${buildId}/${fileName}`);
}
