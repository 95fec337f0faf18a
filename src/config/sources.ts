import { lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';

/*
 * The files a config names beside itself ([files] source, [scripts] source): a directory on this
 * machine for the CLI, or the files a request carried for the service. Paths are relative and
 * never leave the root: no absolute paths, no `..`, and a symbolic link is a refusal, not a way out.
 */

/** A link (anywhere on the way) or a device is there but refused: it gets its own message. */
export type SourceEntry = { kind: 'file'; bytes: number } | { kind: 'dir' } | { kind: 'link' } | { kind: 'special' };

export interface ConfigSources {
  /** What a relative path names, or undefined when nothing is there or the path is absolute or climbs out. */
  stat(rel: string): SourceEntry | undefined;
  readFile(rel: string): Buffer;
  /** The names in a directory, sorted. */
  list(rel: string): string[];
  /** A directory on this machine holding the same tree, for tools that copy from a path; undefined for memory sources. */
  hostPath?(rel: string): string | undefined;
}

/** A relative path in normal form (a/b/c), or undefined if it is absolute or climbs out. */
export function normalRelative(rel: string): string | undefined {
  if (rel === '' || isAbsolute(rel) || rel.includes('\0') || rel.includes('\\')) return undefined;
  const n = normalize(rel).replace(/\/+$/, '');
  if (n === '.') return '';
  if (n === '..' || n.startsWith(`..${sep}`)) return undefined;
  return n;
}

/** The files beside a config file on this machine. */
export function dirSources(root: string): ConfigSources {
  const base = realpathSync(root);
  /** The host path, 'link' when a component is one, undefined when missing or out of the root. */
  const locate = (rel: string): string | 'link' | undefined => {
    const n = normalRelative(rel);
    if (n === undefined) return undefined;
    const full = join(base, n);
    // Every component must be a real directory or file: a link anywhere on the way is refused.
    let at = base;
    for (const part of n === '' ? [] : n.split(sep)) {
      at = join(at, part);
      try {
        if (lstatSync(at).isSymbolicLink()) return 'link';
      } catch {
        return undefined;
      }
    }
    return relative(base, full).startsWith('..') ? undefined : full;
  };
  const resolve = (rel: string): string | undefined => {
    const p = locate(rel);
    return p === 'link' ? undefined : p;
  };
  return {
    stat(rel) {
      const p = locate(rel);
      if (p === undefined || p === 'link') return p === 'link' ? { kind: 'link' } : undefined;
      const st = lstatSync(p);
      if (st.isFile()) return { kind: 'file', bytes: st.size };
      if (st.isDirectory()) return { kind: 'dir' };
      return { kind: 'special' };
    },
    readFile(rel) {
      const p = resolve(rel);
      if (p === undefined) throw new Error(`no file ${rel} beside the config`);
      return readFileSync(p);
    },
    list(rel) {
      const p = resolve(rel);
      if (p === undefined) return [];
      return readdirSync(p).sort();
    },
    hostPath(rel) {
      return resolve(rel);
    },
  };
}

/** Files carried in memory (a request's files), keyed by their relative paths; directories are implied. */
export function memorySources(files: ReadonlyMap<string, Buffer>): ConfigSources {
  const byPath = new Map<string, Buffer>();
  for (const [rel, data] of files) {
    const n = normalRelative(rel);
    if (n !== undefined && n !== '') byPath.set(n, data);
  }
  const isDir = (n: string): boolean => n === '' || [...byPath.keys()].some((p) => p.startsWith(`${n}/`));
  return {
    stat(rel) {
      const n = normalRelative(rel);
      if (n === undefined) return undefined;
      const data = byPath.get(n);
      if (data !== undefined) return { kind: 'file', bytes: data.length };
      return isDir(n) ? { kind: 'dir' } : undefined;
    },
    readFile(rel) {
      const n = normalRelative(rel);
      const data = n === undefined ? undefined : byPath.get(n);
      if (data === undefined) throw new Error(`no file ${rel} in the request`);
      return data;
    },
    list(rel) {
      const n = normalRelative(rel);
      if (n === undefined) return [];
      const prefix = n === '' ? '' : `${n}/`;
      const names = new Set<string>();
      for (const p of byPath.keys()) if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split('/')[0]!);
      return [...names].sort();
    },
  };
}

export interface SourceFile {
  /** Relative to the walked source: '' for a source that is itself a file. */
  rel: string;
  bytes: number;
}

export interface SourceTree {
  /** Directories below the source, parents first ('' is the source itself when it is one). */
  dirs: string[];
  files: SourceFile[];
  /** The first entry that is neither a file nor a directory (a link, a device), if any. */
  refused?: { rel: string; kind: 'link' | 'special' };
}

/** Every file and directory under a source, in sorted order, for the size check and the copy. */
export function walkSource(sources: ConfigSources, source: string): SourceTree | undefined {
  const top = sources.stat(source);
  if (top === undefined) return undefined;
  const tree: SourceTree = { dirs: [], files: [] };
  const visit = (rel: string, entry: SourceEntry): void => {
    if (tree.refused) return;
    if (entry.kind === 'file') tree.files.push({ rel, bytes: entry.bytes });
    else if (entry.kind === 'dir') {
      tree.dirs.push(rel);
      const here = rel === '' ? source : `${source}/${rel}`;
      for (const name of sources.list(here)) {
        const child = rel === '' ? name : `${rel}/${name}`;
        const st = sources.stat(`${source}/${child}`);
        if (st !== undefined) visit(child, st);
      }
    } else tree.refused = { rel, kind: entry.kind };
  };
  visit('', top);
  return tree;
}
