import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, open, readdir, realpath, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { VmgenError } from '../../errors.js';
import type { ArtifactStore } from '../types.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private.js';
import { checkKey } from './key.js';
import { closeParts, eachChunk, hashFile, hashJoined, joinedStream, openParts, sourceFiles } from './joined.js';

/** Hidden (keys never start with a dot), so an upload in progress can never be opened as an artifact. */
const TEMP_DIR = '.incoming';
/** A temp file this old belongs to a process that died while putting it. */
const STALE_TEMP_MS = 24 * 3600_000;

/**
 * Artifacts as files under one directory, which may be shared (NFS) by the server and workers.
 * A put writes or moves the files to a temp name inside the store, syncs them, then renames that
 * into place: readers see nothing or the whole artifact, also after a crash.
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

  /**
   * One file is kept as it is. Several (a container's layer part and its build's own part) are kept
   * as a directory of them, named by their order, which reads as the files joined: the first is
   * usually a link to a file of the layer cache, so storing it moves no data.
   */
  async put(key: string, source: string | readonly string[]): Promise<{ bytes: number; sha256: string }> {
    const files = sourceFiles(key, source);
    const final = this.pathOf(key);
    await this.ensureDirs();
    const temp = join(this.tempDir, `${randomBytes(8).toString('hex')}.part`);
    // One file is stored as the temp itself; several as the parts of a temp directory.
    const stored = files.length === 1 ? [temp] : files.map((_, i) => join(temp, String(i)));
    try {
      let sha256: string;
      if (files.length === 1) {
        sha256 = await moveHashing(files[0]!, temp);
      } else {
        // Hashed where they are: the first files' hash state is kept for the next artifact made of them.
        sha256 = await hashJoined(files);
        await mkdir(temp, { mode: PRIVATE_DIR_MODE });
        for (const [i, f] of files.entries()) await moveFile(f, stored[i]!);
      }
      let bytes = 0;
      for (const f of stored) {
        // The build made it world-readable; a user's archive is theirs (and the server's) alone. A
        // part linked from the layer cache shares its mode with the cache's file, which only the
        // service's own builds read.
        await chmod(f, PRIVATE_FILE_MODE);
        bytes += await syncedSize(f);
      }
      if (files.length > 1) await syncedSize(temp);
      await mkdir(dirname(final), { recursive: true, mode: PRIVATE_DIR_MODE });
      await this.checkInside(dirname(final), key);
      await this.replace(temp, final);
      await syncedSize(dirname(final));
      return { bytes, sha256 };
    } catch (err) {
      await rm(temp, { force: true, recursive: true });
      if (err instanceof VmgenError) throw err;
      throw new VmgenError('VMG_ARTIFACT_STORE', `cannot store artifact ${key} in ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  async open(key: string, range?: { start: number; end: number }): Promise<NodeJS.ReadableStream> {
    const path = this.pathOf(key);
    const found = await this.files(key);
    if (!found) throw new VmgenError('VMG_NOT_FOUND', `no artifact ${key}`);
    const { bytes } = found;
    if (range && !(Number.isInteger(range.start) && Number.isInteger(range.end) && range.start >= 0 && range.start <= range.end && range.end < bytes)) {
      throw new VmgenError('VMG_USAGE', `range ${range.start}-${range.end} is outside artifact ${key} (${bytes} bytes)`);
    }
    await this.checkInside(path, key);
    // Opened before the answer starts, so an artifact removed in between fails here, not mid-response.
    const parts = await openParts(found.paths);
    if (parts.reduce((sum, p) => sum + p.size, 0) !== bytes) {
      await closeParts(parts);
      throw new VmgenError('VMG_NOT_FOUND', `artifact ${key} changed while it was opened`);
    }
    return joinedStream(parts, range);
  }

  async stat(key: string): Promise<{ bytes: number } | undefined> {
    const found = await this.files(key);
    return found && { bytes: found.bytes };
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await rm(path, { force: true, recursive: true });
    // A build's folder (<id>/) goes with its last artifact; a non-empty one stays.
    const parent = dirname(path);
    if (parent !== this.dir) await rmdir(parent).catch(() => {});
  }

  private async files(key: string): Promise<StoredFiles | undefined> {
    return artifactFiles(this.pathOf(key));
  }

  /**
   * Renames `temp` to `final`. A rename replaces a file but not a directory, nor one kind by the
   * other: what is there is moved aside first (an artifact put again under its key).
   */
  private async replace(temp: string, final: string): Promise<void> {
    try {
      await rename(temp, final);
    } catch (err) {
      if (!['EISDIR', 'ENOTDIR', 'ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      const aside = `${temp}.old`;
      await rename(final, aside);
      await rename(temp, final);
      await rm(aside, { recursive: true, force: true });
    }
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

/** The files an artifact is read from, in order, and their sizes and total. */
export interface StoredFiles {
  paths: string[];
  sizes: number[];
  bytes: number;
}

/**
 * The files the artifact at `path` is read from: itself, or the parts of a directory as put() makes
 * it (0, 1, … n-1 and nothing else); undefined for anything else.
 */
export async function artifactFiles(path: string): Promise<StoredFiles | undefined> {
  try {
    const st = await stat(path);
    if (st.isFile()) return { paths: [path], sizes: [st.size], bytes: st.size };
    if (!st.isDirectory()) return undefined;
    const names = await readdir(path);
    if (names.length === 0 || !names.every((n) => /^(0|[1-9][0-9]*)$/.test(n) && Number(n) < names.length)) return undefined;
    const paths = names.map((_, i) => join(path, String(i)));
    const sizes: number[] = [];
    for (const p of paths) {
      const part = await stat(p);
      if (!part.isFile()) return undefined;
      sizes.push(part.size);
    }
    return { paths, sizes, bytes: sizes.reduce((sum, n) => sum + n, 0) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Moves `from` to `to`: a rename, or across file systems a copy. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFile(from, to, constants.COPYFILE_EXCL);
    await rm(from, { force: true });
  }
}

/**
 * Moves `from` to `to` and returns its hash: on one file system a rename moves no data and the hash
 * is one read; across file systems the copy is hashed as it is written.
 */
async function moveHashing(from: string, to: string): Promise<string> {
  try {
    await rename(from, to);
    return await hashFile(to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    const sha256 = await copyHashing(from, to);
    await rm(from, { force: true });
    return sha256;
  }
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

/** Syncs `path` (a file or a directory) to the disk and returns its size. */
async function syncedSize(path: string): Promise<number> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
    return (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}
