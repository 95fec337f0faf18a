import { resolve } from 'node:path';
import { Option } from 'commander';
import { build } from '../../build/build.js';
import { defaultCacheRoot } from '../../cache/store.js';
import { BUILDABLE_TARGET_IDS } from '../../targets/registry.js';
import { ARCHIVE_FORMATS, type ArchiveFormat, type TargetOptions } from '../../targets/types.js';
import { VmgenError } from '../../errors.js';
import { StepReporter } from '../progress.js';
import { catalogsFor, collect, loadValidConfig, targetFor } from '../shared.js';
import type { RegisterCommand } from './types.js';

interface BuildFlags {
  target: string;
  out: string;
  format?: ArchiveFormat;
  catalog?: string[];
  cacheDir?: string;
  json?: boolean;
  lxcPath?: string;
  ctid?: string;
}

/** --lxc-path and --ctid, checked here so a bad value never reaches a generated file. */
export function targetOptionsFrom(flags: { lxcPath?: string; ctid?: string }): TargetOptions {
  const options: TargetOptions = {};
  if (flags.lxcPath !== undefined) {
    if (!/^\/[A-Za-z0-9._/-]*$/.test(flags.lxcPath) || flags.lxcPath.split('/').includes('..')) {
      throw new VmgenError('VMG_USAGE', `--lxc-path must be an absolute path of plain names: ${JSON.stringify(flags.lxcPath)}`);
    }
    options.lxcPath = flags.lxcPath.replace(/\/+$/, '') || '/';
  }
  if (flags.ctid !== undefined) {
    if (!/^\d+$/.test(flags.ctid) || Number(flags.ctid) < 101 || Number(flags.ctid) > 2 ** 31 - 1) {
      throw new VmgenError('VMG_USAGE', `--ctid must be a number from 101: ${JSON.stringify(flags.ctid)}`);
    }
    options.ctid = Number(flags.ctid);
  }
  return options;
}

/** Cancels the build on Ctrl-C or SIGTERM, so its cleanups run; a second signal is not caught. */
function abortOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    controller.abort(new Error(`received ${sig}`));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { signal: controller.signal, dispose: () => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); } };
}

export const registerBuild: RegisterCommand = (program, io) => {
  program
    .command('build')
    .description('build the machine a config describes and write its archive; the path is the last line on stdout')
    .argument('<file>', 'config file')
    .addOption(new Option('-t, --target <target>', 'what to build').choices(BUILDABLE_TARGET_IDS).makeOptionMandatory())
    .option('-o, --out <dir>', 'directory for the archive', '.')
    .addOption(new Option('-f, --format <format>', "archive format (default: the target's own)").choices([...ARCHIVE_FORMATS]))
    .option('--cache-dir <dir>', 'cache directory (default: $VMGEN_CACHE_DIR or /var/cache/vmgen)')
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect)
    .option('--lxc-path <dir>', 'lxc: the directory the archive will be unpacked under (lxc-start -P DIR)', '/var/lib/lxc')
    .option('--ctid <id>', 'openvz: the container id (CTID.conf name)', '101')
    .option('--json', 'print {archive, target, spec, layer} as JSON on stdout instead of the path')
    .action(async (file: string, flags: BuildFlags) => {
      const target = targetFor(flags.target)!;
      const targetOptions = targetOptionsFrom(flags);
      const catalogs = catalogsFor(io, flags.catalog);
      const config = loadValidConfig(io, file, catalogs, target);
      const reporter = new StepReporter(io.stderr as NodeJS.WriteStream);
      const { signal, dispose } = abortOnSignals();
      const started = Date.now();
      try {
        const result = await build({
          config, catalogs, target: target.id, outDir: resolve(io.cwd, flags.out), signal,
          cacheRoot: flags.cacheDir ? resolve(io.cwd, flags.cacheDir) : defaultCacheRoot(),
          ...(flags.format ? { format: flags.format } : {}),
          targetOptions,
          onEvent: reporter.onEvent,
          log: (line) => reporter.detail(line),
        });
        reporter.finish();
        io.stderr.write(`built ${result.spec.name} for ${target.label} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        if (flags.json) {
          io.stdout.write(`${JSON.stringify({ archive: result.archive, target: target.id, name: result.spec.name, layer: result.layer, seconds: (Date.now() - started) / 1000 }, null, 2)}\n`);
        } else {
          io.stdout.write(`${result.archive}\n`);
        }
      } finally {
        reporter.finish();
        dispose();
      }
    });
};
