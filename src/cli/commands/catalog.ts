import { Option } from 'commander';
import { VmgenError } from '../../errors.js';
import { CATALOG_KEYS, type CatalogKey, isPackageInstaller } from '../../catalog/families.js';
import { findOs, loadCatalogs, resolveApp } from '../../catalog/load.js';
import type { AppEntry, Catalogs, OsEntry } from '../../catalog/schema.js';
import type { CliIo } from '../io.js';
import { routeOutput, table } from '../shared.js';
import type { RegisterCommand } from './types.js';

interface CommonOptions {
  json?: boolean;
  catalog: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const catalogOption = (): Option =>
  new Option('--catalog <path>', 'also read this catalog file (repeatable; after VMGEN_CATALOG_PATH)').argParser(collect).default([]);

export const registerCatalog: RegisterCommand = (program, io) => {
  const catalog = program.command('catalog').description('List the OS table and the application catalog');
  routeOutput(catalog, io);

  catalog
    .command('os')
    .description('List the OS ids accepted in [hardware] os')
    .option('--json', 'print JSON')
    .addOption(catalogOption())
    .action((opts: CommonOptions) => {
      const catalogs = load(opts, io);
      if (opts.json) return writeJson(io, catalogs.os);
      const header = ['ID', 'FAMILY', 'DISTRIBUTION', 'RELEASE', 'ARCH', 'INSTALLER', 'CONFIGURATOR', 'VMWARE GUESTOS', 'CONTROLLER', 'FIRMWARE'];
      const rows = catalogs.os.map((os) => [
        os.legacy ? `${os.id} *` : os.id,
        os.family,
        os.distribution,
        os.codename ? `${os.release} (${os.codename})` : os.release,
        os.arch,
        os.installer,
        os.configurator,
        os.vmwareGuestOs,
        os.defaultController,
        os.firmware,
      ]);
      io.stdout.write(table([header, ...rows]));
      if (catalogs.os.some((os) => os.legacy)) io.stdout.write('\n* seed-era id, kept for old config files (see --json labels)\n');
    });

  catalog
    .command('apps')
    .description('List the generic application names and the packages each installer uses for them')
    .option('--os <id>', 'show what the names resolve to on this OS')
    .addOption(new Option('--category <name>', 'only this section').choices(['devel', 'services', 'gui']))
    .option('--json', 'print JSON')
    .addOption(catalogOption())
    .action((opts: CommonOptions & { os?: string; category?: string }) => {
      const catalogs = load(opts, io);
      const apps = catalogs.apps.filter((app) => opts.category === undefined || app.category === opts.category);
      if (opts.os === undefined) return listAll(io, apps, opts.json === true);
      const os = findOs(catalogs, opts.os);
      if (os === undefined) {
        throw new VmgenError('VMG_USAGE', `unknown OS id "${opts.os}"`, {
          hint: `known ids: ${catalogs.os.map((o) => o.id).join(', ')} (run "vmgen catalog os")`,
        });
      }
      listForOs(io, catalogs, apps, os, opts.json === true);
    });
};

function load(opts: CommonOptions, io: CliIo): Catalogs {
  return loadCatalogs({ extraPaths: opts.catalog, cwd: io.cwd });
}

function listAll(io: CliIo, apps: AppEntry[], json: boolean): void {
  if (json) return writeJson(io, apps);
  const cell = (entry: AppEntry[CatalogKey]): string => {
    if (entry === undefined) return '-';
    if ('unavailable' in entry) return 'unavailable';
    if ('setupFile' in entry) return `${entry.setupFile} (${entry.type})`;
    return entry.services.length > 0 ? `${entry.packages.join(' ')} [${entry.services.join(' ')}]` : entry.packages.join(' ');
  };
  const rows = apps.map((app) => [app.osOverrides ? `${app.name} +` : app.name, app.category, ...CATALOG_KEYS.map(({ key }) => cell(app[key]))]);
  const header = ['NAME', 'CATEGORY', ...CATALOG_KEYS.map(({ installers }) => installers.join('/').toUpperCase())];
  io.stdout.write(table([header, ...rows]));
  io.stdout.write('\n[...] services enabled at boot; + differs on some OSes (use --os ID)\n');
}

function listForOs(io: CliIo, catalogs: Catalogs, apps: AppEntry[], os: OsEntry, json: boolean): void {
  const resolved = apps.map((app) => ({ app, result: resolveApp(catalogs, app.name, os) }));
  if (json) {
    return writeJson(
      io,
      resolved.map(({ app, result }) => {
        const head = { name: app.name, category: app.category, description: app.description, installer: os.installer };
        if (!result.ok) return { ...head, available: false, reason: result.reason, ...(result.hint ? { hint: result.hint } : {}) };
        const { packages, services, kit } = result;
        return { ...head, available: true, packages, services, ...(kit ? { kit } : {}) };
      }),
    );
  }
  const kits = !isPackageInstaller(os.installer);
  const rows = resolved.map(({ app, result }) => {
    if (!result.ok) return [app.name, app.category, '-', '-', `unavailable: ${result.reason}${result.hint ? ` (hint: ${result.hint})` : ''}`];
    if (result.kit) return [app.name, app.category, `${result.kit.setupFile} (${result.kit.type})`, result.kit.args ?? '-', ''];
    return [app.name, app.category, result.packages.join(' '), result.services.join(' ') || '-', ''];
  });
  io.stdout.write(`${os.id}: ${os.label} — installer ${os.installer}\n\n`);
  const header = ['NAME', 'CATEGORY', kits ? 'KIT' : 'PACKAGES', kits ? 'ARGS' : 'SERVICES', 'NOTE'];
  io.stdout.write(table([header, ...rows]));
}

function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

