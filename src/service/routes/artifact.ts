import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { VmgenError } from '../../errors.js';
import type { AppDeps } from '../app.js';
import { visibleBuild } from './common.js';

export type RangeResult = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * One byte range from a Range header (RFC 9110 §14), inclusive, clamped to the file. Undefined means
 * "send the whole file": no header, another unit, a malformed spec, or several ranges (a server may
 * ignore a Range header, and multipart/byteranges buys nothing for archive downloads).
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (!Number.isSafeInteger(suffix)) return undefined;
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? Infinity : Number(m[2]);
  if (!Number.isSafeInteger(start) || !(Number.isSafeInteger(end) || end === Infinity) || end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

/** A file name for Content-Disposition: ASCII fallback plus the exact name, RFC 6266 / 8187. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * GET (and HEAD) /api/builds/:id/artifact: the archive of a succeeded build, whole or one byte
 * range, with its SHA-256 in the headers (Digest per RFC 3230, Repr-Digest per RFC 9530, and the
 * hex digest in X-Checksum-SHA256), so a client can check what it downloaded.
 */
export function artifactRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { db, store } = deps;

  app.get<{ Params: { id: string } }>('/api/builds/:id/artifact', async (req, reply) => {
    const row = visibleBuild((id) => db.getBuild(id), req, req.params.id);
    if (row.state !== 'succeeded' || !row.artifact) {
      throw new VmgenError('VMG_NOT_FOUND', row.state === 'succeeded'
        ? `build ${row.id} has no artifact any more: it was removed to keep within the artifact limits`
        : `build ${row.id} has no artifact: it is ${row.state}`);
    }
    const artifact = row.artifact;
    const st = await store.stat(artifact.key);
    if (!st) throw new VmgenError('VMG_NOT_FOUND', `the artifact of build ${row.id} is missing from the store`);
    const size = st.bytes;
    const etag = `"${artifact.sha256}"`;
    const ifRange = req.headers['if-range'];
    const rangeHeader = typeof req.headers.range === 'string' && (ifRange === undefined || ifRange === etag) ? req.headers.range : undefined;
    const range = parseRange(rangeHeader, size);
    const b64 = Buffer.from(artifact.sha256, 'hex').toString('base64');
    reply.headers({
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      'content-disposition': contentDisposition(artifact.name),
      etag,
      digest: `sha-256=${b64}`,
      'repr-digest': `sha-256=:${b64}:`,
      'x-checksum-sha256': artifact.sha256,
      'cache-control': 'private, no-transform',
    });
    if (range === 'unsatisfiable') {
      reply.header('content-range', `bytes */${size}`);
      throw new VmgenError('VMG_RANGE', `the range ${rangeHeader} is outside the artifact (${size} bytes)`);
    }
    if (range) {
      reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', range.end - range.start + 1);
    } else {
      reply.header('content-length', size);
    }
    // An empty stream: fastify's HEAD handling would set Content-Length 0 for no payload, and read a real stream to its end.
    if (req.method === 'HEAD') return reply.send(Readable.from([]));
    const stream = await store.open(artifact.key, range);
    return reply.send(stream);
  });
}
