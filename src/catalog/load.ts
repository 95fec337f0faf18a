import { CATALOG_KEY_OF } from './families.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { VmgenError } from '../errors.js';
import { packagePath } from '../package-root.js';
import {
  AppEntrySchema,
  CatalogFileSchema,
  OsEntrySchema,
  type AppEntry,
  type CatalogInstaller,
  type Catalogs,
  type OsEntry,
  type Unavailable,
  type WindowsKit,
} from './schema.js';

export const BUILTIN_CATALOG_FILES: readonly string[] = [packagePath('catalog/os.json'), packagePath('catalog/apps.json')];

export const CATALOG_PATH_ENV = 'VMGEN_CATALOG_PATH';

export interface LoadOptions {
  /** Extra catalog files, applied after those in VMGEN_CATALOG_PATH. */
  extraPaths?: string[];
  /** Resolves relative extra paths; defaults to process.cwd(). */
  cwd?: string;
  /** Defaults to process.env; tests pass their own. */
  env?: Record<string, string | undefined>;
}

/**
 * The built-in catalogs plus the admin's extra files. A later file's entry replaces an earlier
 * entry with the same id or name as a whole: partial merges would make the effective entry hard to see.
 */
export function loadCatalogs(opts: LoadOptions = {}): Catalogs {
  const cwd = opts.cwd ?? process.cwd();
  const envPaths = ((opts.env ?? process.env)[CATALOG_PATH_ENV] ?? '').split(':').filter((p) => p !== '');
  const files = [...BUILTIN_CATALOG_FILES, ...[...envPaths, ...(opts.extraPaths ?? [])].map((p) => resolve(cwd, p))];

  const os = new Map<string, OsEntry>();
  const apps = new Map<string, AppEntry>();
  for (const file of files) {
    const parsed = readCatalogFile(file);
    for (const entry of parsed.os) os.set(entry.id, entry);
    for (const entry of parsed.apps) apps.set(entry.name, entry);
  }
  return { os: [...os.values()], apps: [...apps.values()], files };
}

function readCatalogFile(file: string): { os: OsEntry[]; apps: AppEntry[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new VmgenError('VMG_FILE_READ', `cannot read catalog file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new VmgenError('VMG_CATALOG', `${file}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const top = CatalogFileSchema.safeParse(data);
  if (!top.success) throw catalogError(file, [], top.error);
  return {
    os: parseEntries(file, 'os', 'id', top.data.os, OsEntrySchema),
    apps: parseEntries(file, 'apps', 'name', top.data.apps, AppEntrySchema),
  };
}

/** Entries come as an array or as an object keyed by id/name; both give the same list. */
function parseEntries<T extends Record<K, string>, K extends string>(
  file: string,
  section: string,
  key: K,
  raw: unknown[] | Record<string, unknown> | undefined,
  schema: z.ZodType<T>,
): T[] {
  if (raw === undefined) return [];
  const items: [string, unknown][] = Array.isArray(raw)
    ? raw.map((value, i) => [String(i), value])
    : Object.entries(raw).map(([k, value]) => [k, keyed(value, key, k)]);
  const seen = new Set<string>();
  return items.map(([where, value]) => {
    const result = schema.safeParse(value);
    if (!result.success) throw catalogError(file, [section, where], result.error);
    const id = result.data[key];
    if (!Array.isArray(raw) && id !== where) {
      throw new VmgenError('VMG_CATALOG', `${file}: ${section}.${where}.${key}: "${id}" differs from its key "${where}"`);
    }
    if (seen.has(id)) throw new VmgenError('VMG_CATALOG', `${file}: ${section}.${where}: ${key} "${id}" appears twice`);
    seen.add(id);
    return result.data;
  });
}

function keyed(value: unknown, key: string, k: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || key in value) return value;
  return { [key]: k, ...value };
}

function catalogError(file: string, prefix: string[], error: z.ZodError): VmgenError {
  const shown = error.issues.slice(0, 3).map((issue) => {
    const path = [...prefix, ...issue.path.map(String)].join('.');
    return `${path === '' ? '(top level)' : path}: ${issue.message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return new VmgenError('VMG_CATALOG', `${file}: ${shown.join('; ')}${more}`);
}

export function findOs(catalogs: Catalogs, id: string): OsEntry | undefined {
  return catalogs.os.find((os) => os.id === id);
}

export type ResolvedApp =
  | { ok: true; packages: string[]; services: string[]; kit?: WindowsKit }
  | { ok: false; reason: string; hint?: string };

export function catalogInstaller(os: OsEntry): CatalogInstaller {
  return CATALOG_KEY_OF[os.installer];
}

/** The override keys that apply to an OS, most specific first. */
export function overrideKeys(os: OsEntry): string[] {
  const keys = [os.id, `${os.distribution}:${os.release}`, os.distribution];
  for (const like of os.like ?? []) keys.push(`${like}:${os.release}`, like);
  return keys;
}

/** The app's entry for the OS's installer, after per-OS overrides; undefined when the catalog has none. */
export function installEntry(app: AppEntry, os: OsEntry): AppEntry[CatalogInstaller] {
  const installer = catalogInstaller(os);
  for (const key of overrideKeys(os)) {
    const entry = app.osOverrides?.[key]?.[installer];
    if (entry !== undefined) return entry;
  }
  return app[installer];
}

export function resolveApp(catalogs: Catalogs, appName: string, os: OsEntry): ResolvedApp {
  const app = catalogs.apps.find((a) => a.name === appName);
  if (app === undefined) return { ok: false, reason: `unknown application "${appName}"` };
  const entry = installEntry(app, os);
  if (entry === undefined) {
    return {
      ok: false,
      reason: `the catalog has no ${os.installer} entry for "${appName}", so it cannot be installed on ${os.id}`,
      hint: `add one in an extra catalog file (--catalog or ${CATALOG_PATH_ENV})`,
    };
  }
  if (isUnavailable(entry)) {
    const reason = `"${appName}" is not available on ${os.id}: ${entry.unavailable}`;
    return entry.hint === undefined ? { ok: false, reason } : { ok: false, reason, hint: entry.hint };
  }
  if ('setupFile' in entry) return { ok: true, packages: [], services: [], kit: entry };
  return { ok: true, packages: [...entry.packages], services: [...entry.services] };
}

function isUnavailable(entry: object): entry is Unavailable {
  return 'unavailable' in entry;
}

/** The apps that resolve on this OS, in catalog order: what a form may offer for it. */
export function appsForOs(catalogs: Catalogs, os: OsEntry): AppEntry[] {
  return catalogs.apps.filter((app) => resolveApp(catalogs, app.name, os).ok);
}
