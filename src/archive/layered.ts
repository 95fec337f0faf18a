import { createWriteStream } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { LayerKeyParts } from '../cache/key.js';
import { spawnStream } from '../exec/stream.js';
import { CommandError } from '../exec/run.js';
import { CHECKPOINT_FLAGS, ROOT_TAR_FLAGS, TAR_COMPRESSION, type TarFormat } from './write.js';
import { TarEndStrip } from './tar-end.js';

/*
 * A container archive in two parts: the cached layer's members, compressed once per layer and kept
 * in the cache, then one build's own members (its top-level files and what it changed in the root,
 * the overlay's upper directory). Tar readers take the later of two members with one name, and
 * zstd, gzip and xz read concatenated frames as one stream, so the parts joined end to end are one
 * archive that unpacks to the configured guest. A rebuild then copies the layer's part instead of
 * compressing the whole root again; what it deleted or replaced is left out of that part, which is
 * why the part is cached per set of paths left out.
 */

/**
 * Directories a build's part carries whole, from the configured root, and the layer's part leaves
 * out: the configuration lives there, so the layer's part is the same for every build that changes
 * nothing else of the layer, and it can be packed while the guest is being configured.
 */
export const WHOLE_DIRS: readonly string[] = ['etc'];

/** Formats whose parts can be joined: a tar, or a tar compressed by a tool that reads concatenated frames. */
export const LAYERED_FORMATS: readonly TarFormat[] = ['tar.zst', 'tar.gz', 'tar.xz', 'tar'];

/** Past this many deletions the layer's part would need too long a command line: the archive is made whole. */
export const MAX_EXCLUSIONS = 2000;

/** What identifies a cached layer part: the layer, the compression, the root's name in the archive and what is left out. */
export interface LayerPartRequest {
  layerKey: string;
  /** The cached layer's root, `<layer dir>/rootfs`. */
  layerRootfs: string;
  format: TarFormat;
  /** The root's top-level name in the archive ('rootfs'). */
  rootName: string;
  /**
   * Paths relative to the root the part leaves out: the directories the build's part carries whole,
   * and what the build deleted (whiteouts, opaque directories' hidden names) or replaced elsewhere.
   */
  exclude: readonly string[];
}

/** The cache of layer parts (the real one: `layerParts` in src/archive/layer-parts.ts). */
export interface LayerParts {
  /** The file holding the part: made once per request, then found. */
  ensure(req: LayerPartRequest, ctx: { signal: AbortSignal; log(line: string): void; onStderr?(chunk: string): void }): Promise<{ path: string; made: boolean }>;
  /**
   * Packs the part of a layer still being made (`layerParts`: its key parts), into the layer's own
   * directory, beside its root: ensure() takes it from there once the layer is published, and a
   * layer that is never published takes it with it. `later.dirs` are still being written: they are
   * left out, then appended whole once `later.ready` resolves (so the part is the one `req` asks for).
   */
  packUnpublished(req: LayerPartRequest, layerParts: LayerKeyParts, later: { dirs: readonly string[]; ready: Promise<void> }, ctx: { signal: AbortSignal; log(line: string): void }): Promise<void>;
}

/** Whether a layer part can stand for the request: the cache's root must carry the archive's root name. */
export function layerPartApplies(req: Omit<LayerPartRequest, 'layerKey'>): boolean {
  return LAYERED_FORMATS.includes(req.format) && basename(req.layerRootfs) === req.rootName && req.exclude.length <= MAX_EXCLUSIONS;
}

/**
 * tar's argv for the layer's members (to stdout, end blocks included: TarEndStrip drops them): the
 * whole root, or only `members` (directories below it, with what is under them).
 */
export function layerPartTarArgv(req: Pick<LayerPartRequest, 'layerRootfs' | 'exclude'>, members?: readonly string[]): [string, ...string[]] {
  const name = basename(req.layerRootfs);
  return [
    'tar', ...ROOT_TAR_FLAGS, ...CHECKPOINT_FLAGS,
    // Literal names from the start of the member name: a deleted `a*` must not take `ab` with it.
    '--anchored', '--no-wildcards', ...req.exclude.map((p) => `--exclude=${name}/${p}`),
    '-C', dirname(req.layerRootfs), '-cf', '-', '--', ...(members === undefined ? [name] : members.map((m) => `${name}/${m}`)),
  ];
}

/**
 * tar's argv for the build's own members: the top-level files and the directories carried whole
 * (relative to the stage, whose `rootName` is the configured root), then the upper directory's
 * entries (read NUL-separated from stdin, as `./path`), renamed below `rootName`. Symlink targets
 * keep their text.
 */
export function buildPartTarArgv(stage: { dir: string; names: readonly string[] }, upper: string, rootName: string, whole: readonly string[] = []): [string, ...string[]] {
  const odd = stage.names.find((n) => n.startsWith('-') || n.startsWith('./') || n.includes('\0'));
  if (odd !== undefined) throw new Error(`'${odd}' cannot be a top-level archive entry here`);
  return [
    'tar', ...ROOT_TAR_FLAGS, '-cf', '-',
    // Positional, as GNU tar reads them: the top-level files and whole directories with what is
    // below them, then exactly the listed entries.
    '-C', stage.dir, ...stage.names, ...whole.map((d) => `${rootName}/${d}`),
    '--no-recursion', '-C', upper, `--transform=s,^\\./,${rootName}/,S`, '--null', '--no-unquote', '--verbatim-files-from', '-T', '-',
  ];
}

/** Whether `path` (relative to the root) is one of `dirs` or below one of them. */
export function isUnder(path: string, dirs: readonly string[]): boolean {
  return dirs.some((d) => path === d || path.startsWith(`${d}/`));
}

/**
 * How a build's changes split between the parts: the layer's part leaves out the directories
 * carried whole and what the build deleted or replaced elsewhere; the build's part lists the
 * upper directory's entries outside those directories.
 */
export function splitDelta(delta: { deletions: readonly string[]; overwritten: readonly string[]; copies: readonly string[] }, whole: readonly string[]): { exclude: string[]; copies: string[] } {
  const under = (p: string): boolean => isUnder(p, whole);
  return {
    exclude: [...whole, ...[...delta.deletions, ...delta.overwritten].filter((p) => !under(p))],
    copies: delta.copies.filter((p) => !under(p)),
  };
}

/** The NUL-separated list buildPartTarArgv reads: the upper directory's entries, parents first. */
export function buildPartList(copies: readonly string[]): string {
  return copies.map((p) => `./${p}\0`).join('');
}

/** Writes the layer's part to `dest`: tar of the layer without its end, through the format's compressor. */
export async function writeLayerPart(req: LayerPartRequest, dest: string, ctx: { signal: AbortSignal; onStderr?(chunk: string): void; members?: readonly string[]; append?: boolean }): Promise<void> {
  const tar = spawnStream(layerPartTarArgv(req, ctx.members), { signal: ctx.signal, ...(ctx.onStderr ? { onStderr: ctx.onStderr } : {}) });
  const strip = new TarEndStrip();
  await toFile(tar, strip, req.format, dest, ctx.append ? 'a' : 'w', ctx.signal);
}

/**
 * Joins the cached layer part and this build's part into `output`: a copy of the first (the file
 * system copies it in the kernel), then the second compressed after it. Without `layerPart`, only
 * the build's part: the caller keeps the layer's part apart and joins them later.
 */
export async function writeJoinedArchive(opts: {
  layerPart?: string; format: TarFormat; output: string; stage: { dir: string; names: readonly string[] };
  upper: string; copies: readonly string[]; rootName: string; whole?: readonly string[]; signal: AbortSignal;
}): Promise<void> {
  if (opts.layerPart !== undefined) await copyFile(opts.layerPart, opts.output);
  const tar = spawnStream(buildPartTarArgv(opts.stage, opts.upper, opts.rootName, opts.whole), { signal: opts.signal });
  tar.stdin.end(buildPartList(opts.copies));
  await toFile(tar, undefined, opts.format, opts.output, opts.layerPart !== undefined ? 'a' : 'w', opts.signal);
}

type Streamed = ReturnType<typeof spawnStream>;

/** tar's stdout, through `strip` when given and the format's compressor, written to `dest` (`a`: appended). */
async function toFile(tar: Streamed, strip: TarEndStrip | undefined, format: TarFormat, dest: string, flags: 'w' | 'a', signal: AbortSignal): Promise<void> {
  // One pipeline per process boundary: a failing stage destroys the others, so no tool is left
  // blocked on a full pipe.
  const feed = (to: Writable): Promise<void> => (strip ? pipeline(tar.stdout, strip, to, { signal }) : pipeline(tar.stdout, to, { signal }));
  const filter = TAR_COMPRESSION[format].filter;
  if (filter === undefined) {
    const [piped, made] = await Promise.allSettled([feed(createWriteStream(dest, { flags })), tar.done]);
    throwFirst([made, piped]);
    return;
  }
  const writing = TAR_COMPRESSION[format].toFile;
  if (writing !== undefined && flags === 'w') {
    const writer = spawnStream(writing(dest), { signal });
    writer.stdout.resume();
    const [fed, made, compressed] = await Promise.allSettled([feed(writer.stdin), tar.done, writer.done]);
    throwFirst([made, compressed, fed]);
    return;
  }
  const compress = spawnStream(filter, { signal });
  const [fed, drained, made, compressed] = await Promise.allSettled([
    feed(compress.stdin), pipeline(compress.stdout, createWriteStream(dest, { flags }), { signal }), tar.done, compress.done,
  ]);
  throwFirst([made, compressed, fed, drained]);
}

/** The most telling failure: a tool's own error (with its stderr) before a broken pipe. */
function throwFirst(results: readonly PromiseSettledResult<unknown>[]): void {
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  const tool = failed.find((e) => e instanceof CommandError && e.exitCode !== null);
  if (tool !== undefined || failed.length > 0) throw tool ?? failed[0];
}

/** Where a layer part lives in its cache entry's directory. */
export function layerPartFile(dir: string, format: TarFormat): string {
  return join(dir, `layer.${format}`);
}
