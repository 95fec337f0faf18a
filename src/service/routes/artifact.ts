import { createHmac, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VmgenError } from '../../errors.js';
import type { AppDeps } from '../app-deps.js';
import type { BuildRow } from '../db.js';
import type { ArtifactStore } from '../types.js';
import type { DownloadLink } from '../web/shared-types.js';
import { BUILD_ID, bodyField, visibleBuild } from './common.js';

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
 * Download links: a URL that fetches one build's artifact without the token header, so a browser
 * can hand a multi-GB archive to its download manager instead of holding it in memory. The link
 * carries its expiry and an HMAC-SHA256, under a key only the server has, of the build id, the
 * build's owner and that expiry; nothing else is stored, and a link cannot be revoked before it
 * expires, so it lives minutes, not days.
 */
export const DOWNLOAD_PATH = '/download';
/** The name of the signing key in the database's secrets table. */
export const DOWNLOAD_SECRET = 'download-links';
export const LINK_TTL_DEFAULT_S = 15 * 60;
export const LINK_TTL_MAX_S = 24 * 60 * 60;
const LINK_TTL_MIN_S = 10;
const EXPIRES = /^[0-9]{1,12}$/;
// Compared as text, not decoded: base64url has several spellings of the same last bits.
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

export function linkSignature(key: Buffer, id: string, owner: string, expires: number): string {
  // A version and field separators that ids, user names and numbers cannot contain.
  return createHmac('sha256', key).update(`vmgen-download-v1\n${id}\n${owner}\n${expires}`).digest('base64url');
}

/** The link to build ID's artifact, valid until `expires` (seconds since the epoch). */
export function downloadLink(key: Buffer, row: Pick<BuildRow, 'id' | 'owner'>, expires: number): DownloadLink {
  const query = new URLSearchParams({ expires: String(expires), sig: linkSignature(key, row.id, row.owner, expires) });
  return { url: `${DOWNLOAD_PATH}/${row.id}?${query}`, expires: new Date(expires * 1000).toISOString() };
}

/**
 * The build a link names when its signature holds for that build and owner. Every failure is the
 * same 404 (wrong build, altered expiry or signature, no such build) so links cannot probe for
 * ids; only a genuine link says that it expired.
 */
export function linkedBuild(key: Buffer, lookup: (id: string) => BuildRow | undefined, id: string, query: unknown, now = Date.now()): BuildRow {
  const invalid = new VmgenError('VMG_NOT_FOUND', 'no download at this link', { hint: 'ask for a new link: POST /api/builds/ID/download-link' });
  const expires = bodyField(query, 'expires');
  const sig = bodyField(query, 'sig');
  if (!BUILD_ID.test(id) || typeof expires !== 'string' || !EXPIRES.test(expires) || typeof sig !== 'string' || !SIGNATURE.test(sig)) throw invalid;
  const row = lookup(id);
  // A missing build is checked against a signature too, so it costs what a present one does.
  const want = Buffer.from(linkSignature(key, id, row?.owner ?? '', Number(expires)), 'ascii');
  if (!timingSafeEqual(want, Buffer.from(sig, 'ascii')) || !row) throw invalid;
  if (Number(expires) * 1000 <= now) {
    throw new VmgenError('VMG_NOT_FOUND', `this download link expired at ${new Date(Number(expires) * 1000).toISOString()}`,
      { hint: 'ask for a new link: POST /api/builds/ID/download-link' });
  }
  return row;
}

/** A link's lifetime from a request body: seconds, LINK_TTL_MIN_S to LINK_TTL_MAX_S. */
function linkTtl(body: unknown): number {
  const v = bodyField(body, 'expiresIn');
  if (v === undefined || v === null) return LINK_TTL_DEFAULT_S;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < LINK_TTL_MIN_S || v > LINK_TTL_MAX_S) {
    throw new VmgenError('VMG_USAGE', `"expiresIn" is a whole number of seconds from ${LINK_TTL_MIN_S} to ${LINK_TTL_MAX_S}`);
  }
  return v;
}

/** The artifact of a build that has one, else the 404 that says why not. */
function artifactOf(row: BuildRow): NonNullable<BuildRow['artifact']> {
  if (row.state !== 'succeeded' || !row.artifact) {
    throw new VmgenError('VMG_NOT_FOUND', row.state === 'succeeded'
      ? `build ${row.id} has no artifact any more: it was removed to keep within the artifact limits`
      : `build ${row.id} has no artifact: it is ${row.state}`);
  }
  return row.artifact;
}

/**
 * Sends a build's archive, whole or one byte range, with its SHA-256 in the headers (Digest per
 * RFC 3230, Repr-Digest per RFC 9530, and the hex digest in X-Checksum-SHA256), so a client can
 * check what it downloaded. Both the token route and download links answer through this.
 */
export async function sendArtifact(store: ArtifactStore, row: BuildRow, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const artifact = artifactOf(row);
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
}

/**
 * GET (and HEAD) /api/builds/:id/artifact: the archive, for a caller with a token.
 * POST /api/builds/:id/download-link: a signed link to it, for a caller with a token, and
 * GET (and HEAD) /download/:id?expires=…&sig=…: the archive for whoever holds such a link. That
 * route is outside /api/, so the app's token check leaves it alone; it keeps the rate limit.
 */
export function artifactRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { db, store } = deps;
  const key = db.secret(DOWNLOAD_SECRET);

  app.get<{ Params: { id: string } }>('/api/builds/:id/artifact', async (req, reply) => {
    const row = visibleBuild((id) => db.getBuild(id), req, req.params.id);
    return sendArtifact(store, row, req, reply);
  });

  app.post<{ Params: { id: string } }>('/api/builds/:id/download-link', async (req, reply) => {
    const row = visibleBuild((id) => db.getBuild(id), req, req.params.id);
    artifactOf(row);
    const ttl = linkTtl(req.body);
    reply.header('cache-control', 'no-store');
    return downloadLink(key, row, Math.floor(Date.now() / 1000) + ttl);
  });

  app.get<{ Params: { id: string } }>(`${DOWNLOAD_PATH}/:id`, { onRequest: app.rateLimit() }, async (req, reply) => {
    const row = linkedBuild(key, (id) => db.getBuild(id), req.params.id, req.query);
    return sendArtifact(store, row, req, reply);
  });
}
