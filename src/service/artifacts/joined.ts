import { createHash, type Hash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { VmgenError } from '../../errors.js';

/*
 * An artifact kept as the files it was made of, read as if they were joined end to end. A container
 * build's archive is the cached layer's part (one file, the same for every build on that layer)
 * followed by the build's own part: kept as those two files, a stored build costs neither a copy of
 * the first, nor its hash, nor its write to the disk.
 */

/** Hashing and copying read into one buffer, used again for every read (a stream allocates one per chunk). */
const READ_CHUNK = 1 << 20;
/** A download's chunks: each is handed to the reader, so each is a fresh buffer. */
const STREAM_CHUNK = 256 << 10;

/** The files an artifact is put from, in order: a store's put() takes one path or several. */
export function sourceFiles(key: string, source: string | readonly string[]): string[] {
  const files = typeof source === 'string' ? [source] : [...source];
  if (files.length === 0) throw new VmgenError('VMG_ARTIFACT_STORE', `artifact ${key} has no files`);
  return files;
}

/** Calls `each` with every chunk of `path`, in order; the chunk is only valid until `each` returns. */
export async function eachChunk(path: string, each: (chunk: Buffer) => Promise<void> | void): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ_CHUNK, null);
      if (bytesRead === 0) return;
      await each(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
}

export async function hashFile(path: string): Promise<string> {
  return hashJoined([path]);
}

/**
 * The hash state after every file but the last, kept for the next artifact with the same first
 * files: the layer's part is hashed once, not once per build. Keyed by what the files are on the disk
 * (device, inode, size, modification time), since a cached part is replaced, never changed in place.
 */
const prefixHashes = new Map<string, Hash>();
const MAX_PREFIXES = 16;

async function identity(path: string): Promise<string> {
  const st = await stat(path, { bigint: true });
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

/** The SHA-256 of `files` joined in order. */
export async function hashJoined(files: readonly string[]): Promise<string> {
  const hash = await prefixHash(files.slice(0, -1));
  const last = files.at(-1);
  if (last !== undefined) await eachChunk(last, (chunk) => void hash.update(chunk));
  return hash.digest('hex');
}

async function prefixHash(files: readonly string[]): Promise<Hash> {
  if (files.length === 0) return createHash('sha256');
  const key = (await Promise.all(files.map(identity))).join('/');
  const known = prefixHashes.get(key);
  if (known) {
    // Most recently used last: the map's order is its eviction order.
    prefixHashes.delete(key);
    prefixHashes.set(key, known);
    return known.copy();
  }
  const hash = createHash('sha256');
  for (const f of files) await eachChunk(f, (chunk) => void hash.update(chunk));
  // Read again after hashing: a file changed meanwhile is hashed as it was read, and not remembered.
  if ((await Promise.all(files.map(identity))).join('/') === key) {
    prefixHashes.set(key, hash.copy());
    if (prefixHashes.size > MAX_PREFIXES) prefixHashes.delete(prefixHashes.keys().next().value!);
  }
  return hash;
}

/** The parts of `sizes` that bytes [start, end] (inclusive) of the joined files cover, with the range inside each. */
export function sliceParts(sizes: readonly number[], start: number, end: number): Array<{ index: number; start: number; end: number }> {
  const out: Array<{ index: number; start: number; end: number }> = [];
  let offset = 0;
  for (const [index, size] of sizes.entries()) {
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + size - 1);
    if (from <= to) out.push({ index, start: from - offset, end: to - offset });
    offset += size;
  }
  return out;
}

/** An open part: read from its handle, which the stream closes. */
export interface OpenPart {
  fh: FileHandle;
  size: number;
}

/** Opens `paths` for joinedStream; all or none (a failure closes those already open). */
export async function openParts(paths: readonly string[]): Promise<OpenPart[]> {
  const parts: OpenPart[] = [];
  try {
    for (const p of paths) {
      const fh = await open(p, 'r');
      parts.push({ fh, size: 0 });
      parts.at(-1)!.size = (await fh.stat()).size;
    }
    return parts;
  } catch (err) {
    await closeParts(parts);
    throw err;
  }
}

export async function closeParts(parts: readonly OpenPart[]): Promise<void> {
  await Promise.all(parts.map((p) => p.fh.close().catch(() => {})));
}

/**
 * Bytes [start, end] (inclusive; all of them without a range) of the parts joined in order. The
 * handles are closed when the stream ends, fails or is destroyed; the caller checks the range.
 */
export function joinedStream(parts: readonly OpenPart[], range?: { start: number; end: number }): Readable {
  const total = parts.reduce((sum, p) => sum + p.size, 0);
  const slices = sliceParts(parts.map((p) => p.size), range?.start ?? 0, range?.end ?? total - 1);
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for (const s of slices) {
        const { fh } = parts[s.index]!;
        for (let pos = s.start; pos <= s.end;) {
          const want = Math.min(STREAM_CHUNK, s.end - pos + 1);
          const { bytesRead, buffer } = await fh.read(Buffer.allocUnsafe(want), 0, want, pos);
          if (bytesRead === 0) throw new Error(`a part of the artifact ended ${s.end - pos + 1} bytes early`);
          yield bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
          pos += bytesRead;
        }
      }
    } finally {
      await closeParts(parts);
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
