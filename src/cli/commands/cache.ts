import { resolve } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_PRUNE_DAYS, pruneCache, type PrunedItem, type PruneResult } from '../../cache/prune.js';
import { defaultCacheRoot, LayerCache, type LayerInfo } from '../../cache/store.js';
import type { CliIo } from '../io.js';
import { routeOutput, table } from '../shared.js';
import type { RegisterCommand } from './types.js';

interface CacheOptions {
  json?: boolean;
  cacheDir?: string;
}

interface PruneFlags extends CacheOptions {
  all?: boolean;
  olderThan?: number;
  dryRun?: boolean;
}

const cacheDirOption = (): Option => new Option('--cache-dir <dir>', 'use this cache instead of the default (see "vmgen cache path")');

export const registerCache: RegisterCommand = (program, io) => {
  const cache = program.command('cache').description('Show and clean the build cache (root file system layers, VM disk images and the .deb pool)');
  routeOutput(cache, io);

  cache
    .command('path')
    .description('Print the cache directory ($VMGEN_CACHE_DIR, /var/cache/vmgen for root, else ~/.cache/vmgen)')
    .action(() => {
      io.stdout.write(`${defaultCacheRoot()}\n`);
    });

  cache
    .command('list')
    .description('List the cached layers, most recently used first')
    .option('--json', 'print JSON')
    .addOption(cacheDirOption())
    .action(async (opts: CacheOptions) => {
      const store = openCache(io, opts);
      const layers = await store.list();
      if (opts.json) return writeJson(io, layers);
      if (layers.length === 0) return void io.stdout.write(`no cached layers in ${store.root}\n`);
      io.stdout.write(table([['KEY', 'KIND', 'DISTRIBUTION/RELEASE', 'PACKAGES', 'SIZE', 'LAST USED'], ...layers.map(layerRow)]));
    });

  cache
    .command('prune')
    .description(`Remove layers not used for ${DEFAULT_PRUNE_DAYS} days, leftovers of interrupted builds and their work dirs`)
    .addOption(new Option('--all', 'remove every layer and the .deb pool').conflicts('olderThan'))
    .addOption(new Option('--older-than <days>', `remove layers not used for this many days (default ${DEFAULT_PRUNE_DAYS})`).argParser(parseDays))
    .option('--dry-run', 'show what would be removed, remove nothing')
    .option('--json', 'print JSON')
    .addOption(cacheDirOption())
    .action(async (opts: PruneFlags) => {
      const result = await pruneCache(openCache(io, opts), { all: opts.all === true, olderThanDays: opts.olderThan, dryRun: opts.dryRun === true });
      if (opts.json) return writeJson(io, result);
      io.stdout.write(pruneReport(result));
    });
};

function openCache(io: CliIo, opts: CacheOptions): LayerCache {
  return new LayerCache(opts.cacheDir === undefined ? defaultCacheRoot() : resolve(io.cwd, opts.cacheDir));
}

function parseDays(value: string): number {
  const days = Number(value);
  if (value.trim() === '' || !Number.isFinite(days) || days < 0) throw new InvalidArgumentError('expected a number of days (0 or more)');
  return days;
}

function layerRow(layer: LayerInfo): string[] {
  const { parts } = layer.meta;
  return [layer.key, layer.kind, `${parts.distribution}/${parts.release}`, String(parts.packages.length), formatBytes(layer.bytes), formatAge(Date.now() - Date.parse(layer.lastUsed))];
}

function pruneReport(result: PruneResult): string {
  const verb = result.dryRun ? 'would remove' : 'removed';
  const lines = result.removed.map((item) => `${verb} ${describe(item)} (${formatBytes(item.bytes)})`);
  for (const item of result.skipped) lines.push(`kept ${describe(item)}: ${item.reason}`);
  if (result.removed.length === 0) lines.push('nothing to remove');
  else lines.push(`${result.dryRun ? 'would free' : 'freed'} ${formatBytes(result.bytesFreed)}`);
  return `${lines.join('\n')}\n`;
}

function describe(item: Pick<PrunedItem, 'what' | 'path' | 'key'>): string {
  if (item.what === 'layer') return `layer ${item.key ?? item.path}`;
  if (item.what === 'partial') return `unfinished layer ${item.path}`;
  if (item.what === 'work') return `work dir ${item.path}`;
  return `.deb pool ${item.path}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

