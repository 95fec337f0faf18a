import { lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';

/*
 * The files a config names beside itself ([files] source, [scripts] source): a directory on this
 * machine for the CLI, or the files a request carried for the service. Paths are relative and
 * never leave the root: no absolute paths, no `..`, and a symbolic link is a refusal, not a way out.
 */

export type SourceEntry = { kind: 'file'; bytes: number } | { kind: 'dir' };

export interface ConfigSources {
  /** What a relative path names, or undefined when nothing (or a link, or a path out of the root) is there. */
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
  const resolve = (rel: string): string | undefined => {
    const n = normalRelative(rel);
    if (n === undefined) return undefined;
    const full = join(base, n);
    // Every component must be a real directory or file: a link anywhere on the way is refused.
    let at = base;
    for (const part of n === '' ? [] : n.split(sep)) {
      at = join(at, part);
      try {
        if (lstatSync(at).isSymbolicLink()) return undefined;
      } catch {
        return undefined;
      }
    }
    return relative(base, full).startsWith('..') ? undefined : full;
  };
  return {
    stat(rel) {
      const p = resolve(rel);
      if (p === undefined) return undefined;
      const st = lstatSync(p);
      if (st.isFile()) return { kind: 'file', bytes: st.size };
      if (st.isDirectory()) return { kind: 'dir' };
      return undefined;
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
