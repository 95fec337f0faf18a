import { createHash } from 'node:crypto';
import { VmgenError } from '../errors.js';

/**
 * Cache keys name a layer by what went into it, so two builds that would make the same root file
 * system share one copy, and a change to any input makes a new layer instead of reusing a wrong one.
 */
export const LAYER_KINDS = ['base', 'packages', 'disks', 'tar'] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];

export interface LayerKeyParts {
  distribution: string;
  release: string;
  suite: string;
  arch: string;
  mirror: string;
  /** Order and repeats do not matter: they are sorted and deduplicated before hashing. */
  packages: readonly string[];
  variant: string;
  /** Bumped when the way layers are made changes, so old layers stop matching. */
  recipe: number;
}

const HASH_CHARS = 20;
const KEY_PATTERN = new RegExp(`^(${LAYER_KINDS.join('|')})-[0-9a-f]{${HASH_CHARS}}$`);

export function layerKey(kind: LayerKind, parts: LayerKeyParts): string {
  const hash = createHash('sha256').update(canonicalJson({ kind, parts: normalizeParts(parts) })).digest('hex');
  return `${kind}-${hash.slice(0, HASH_CHARS)}`;
}

/**
 * Keeps only the known fields, so an object with extra properties (a config section spread in)
 * hashes like the bare parts; spellings that mean the same mirror or package set become one.
 */
export function normalizeParts(parts: LayerKeyParts): LayerKeyParts {
  if (!Number.isInteger(parts.recipe) || parts.recipe < 0) {
    throw new VmgenError('VMG_CACHE_KEY', `layer recipe must be a non-negative integer, got ${String(parts.recipe)}`);
  }
  // Code-point order, not localeCompare: the key must not depend on the host's locale.
  const packages = [...new Set(parts.packages.map((p) => p.trim()).filter((p) => p !== ''))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    distribution: parts.distribution,
    release: parts.release,
    suite: parts.suite,
    arch: parts.arch,
    mirror: parts.mirror.trim().replace(/\/+$/, ''),
    packages,
    variant: parts.variant,
    recipe: parts.recipe,
  };
}

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Keys become directory names: anything else could name a path outside the cache. */
export function isLayerKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

export function assertLayerKey(key: string): void {
  if (!isLayerKey(key)) throw new VmgenError('VMG_CACHE_KEY', `'${key}' is not a layer key`, { hint: 'keys look like base-0123456789abcdef0123' });
}

export function layerKindOf(key: string): LayerKind | undefined {
  const kind = KEY_PATTERN.exec(key)?.[1];
  return LAYER_KINDS.find((k) => k === kind);
}
