import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, readdir, realpath, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { VmgenError } from '../../errors.js';
import type { ArtifactStore } from '../types.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private.js';
import { checkKey } from './key.js';

/** Hidden (keys never start with a dot), so an upload in progress can never be opened as an artifact. */
const TEMP_DIR = '.incoming';
/** A temp file this old belongs to a process that died while putting it. */
const STALE_TEMP_MS = 24 * 3600_000;

/**
 * Artifacts as files under one directory, which may be shared (NFS) by the server and workers.
 * A put writes or moves the file to a temp name inside the store, syncs it, then renames it into
 * place: readers see nothing or the whole file, also after a crash.
 */
export class DirArtifactStore implements ArtifactStore {
  readonly dir: string;
  private readonly tempDir: string;
  private swept = false;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.tempDir = join(this.dir, TEMP_DIR);
  }

  /** The file a key names; refuses keys that are malformed or would resolve outside the store. */
  pathOf(key: string): string {
    const p = resolve(this.dir, checkKey(key));
    if (!p.startsWith(this.dir + sep)) throw new VmgenError('VMG_ARTIFACT_KEY', `artifact key ${key} leaves the store`);
    return p;
  }

  async put(key: string, file: string): Promise<{ bytes: number; sha256: string }> {
    const final = this.pathOf(key);
    await this.ensureDirs();
    const temp = join(this.tempDir, `${randomBytes(8).toString('hex')}.part`);
    try {
      let sha256: string;
      try {
        // Same file system: a rename moves the data without copying it; the hash is one read.
        await rename(file, temp);
        sha256 = await hashFile(temp);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        sha256 = await copyHashing(file, temp);
        await rm(file, { force: true });
      }
      // The build made it world-readable; a user's archive is theirs (and the server's) alone.
      await chmod(temp, PRIVATE_FILE_MODE);
      await fsyncPath(temp);
      await mkdir(dirname(final), { recursive: true, mode: PRIVATE_DIR_MODE });
      await this.checkInside(dirname(final), key);
      await rename(temp, final);
      await fsyncPath(dirname(final));
      const bytes = (await stat(final)).size;
      return { bytes, sha256 };
    } catch (err) {
      await rm(temp, { force: true });
      if (err instanceof VmgenError) throw err;
      throw new VmgenError('VMG_ARTIFACT_STORE', `cannot store artifact ${key} in ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  async open(key: string, range?: { start: number; end: number }): Promise<NodeJS.ReadableStream> {
    const path = this.pathOf(key);
    const size = await this.stat(key);
    if (!size) throw new VmgenError('VMG_NOT_FOUND', `no artifact ${key}`);
    if (range && !(Number.isInteger(range.start) && Number.isInteger(range.end) && range.start >= 0 && range.start <= range.end && range.end < size.bytes)) {
      throw new VmgenError('VMG_USAGE', `range ${range.start}-${range.end} is outside artifact ${key} (${size.bytes} bytes)`);
    }
    await this.checkInside(path, key);
    const stream = createReadStream(path, range ? { start: range.start, end: range.end } : {});
    // Opening is lazy; wait for it so a file removed in between fails here, not mid-response.
    await new Promise<void>((ok, fail) => {
      stream.once('open', () => ok());
      stream.once('error', fail);
    });
    return stream;
  }

  async stat(key: string): Promise<{ bytes: number } | undefined> {
    try {
      const st = await stat(this.pathOf(key));
      return st.isFile() ? { bytes: st.size } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await rm(path, { force: true });
    // A build's folder (<id>/) goes with its last artifact; a non-empty one stays.
    const parent = dirname(path);
    if (parent !== this.dir) await rmdir(parent).catch(() => {});
  }

  /** A key is checked by its text; this catches a symbolic link inside the store that leads out of it. */
  private async checkInside(path: string, key: string): Promise<void> {
    const [real, root] = await Promise.all([realpath(path), realpath(this.dir)]);
    if (!real.startsWith(root + sep)) throw new VmgenError('VMG_ARTIFACT_KEY', `artifact key ${key} leads out of the store through a link`);
  }

  private async ensureDirs(): Promise<void> {
    await mkdir(this.tempDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    if (this.swept) return;
    this.swept = true;
    // Temps another process (a killed worker) left mid-put; a live put finishes in far less time.
    const now = Date.now();
    for (const name of await readdir(this.tempDir).catch(() => [] as string[])) {
      const p = join(this.tempDir, name);
      const st = await stat(p).catch(() => undefined);
      if (st && now - st.mtimeMs > STALE_TEMP_MS) await rm(p, { force: true, recursive: true });
    }
  }
}

/**
 * Hashing and copying read into one buffer, used again for every read: a stream allocates a buffer
 * per chunk, and for an archive of a few hundred MiB that garbage (and at 64 KiB, the event-loop
 * turns) cost the server twice the hash itself, three times with four builds storing at once.
 */
const READ_CHUNK = 1 << 20;

/** Calls `each` with every chunk of `path`, in order; the chunk is only valid until `each` returns. */
async function eachChunk(path: string, each: (chunk: Buffer) => Promise<void> | void): Promise<void> {
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
  const hash = createHash('sha256');
  await eachChunk(path, (chunk) => void hash.update(chunk));
  return hash.digest('hex');
}

async function copyHashing(from: string, to: string): Promise<string> {
  const hash = createHash('sha256');
  const out = await open(to, 'wx');
  try {
    await eachChunk(from, async (chunk) => {
      hash.update(chunk);
      for (let done = 0; done < chunk.length;) done += (await out.write(chunk, done)).bytesWritten;
    });
  } finally {
    await out.close();
  }
  return hash.digest('hex');
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
