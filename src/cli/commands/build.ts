import { dirname, resolve } from 'node:path';
import { Option } from 'commander';
import { build } from '../../orchestrator/build.js';
import { defaultCacheRoot } from '../../cache/store.js';
import { BUILDABLE_TARGET_IDS, buildableTarget } from '../../targets/commanders.js';
import { ARCHIVE_FORMATS, type ArchiveFormat } from '../../targets/types.js';
import { runSteps } from '../../targets/run-commands.js';
import { runItText } from '../run-it.js';
import { targetOptionsFrom, withTargetOptions } from '../target-options.js';
import { StepReporter } from '../progress.js';
import { catalogsFor, collect, loadConfigBeside, targetFor } from '../shared.js';
import type { RegisterCommand } from './types.js';
import { diagnosticAt } from '../../config/diagnose.js';
import type { PlaceIndex } from '../../config/normalize.js';
import { VmgenError } from '../../errors.js';

/** A build failure about one key of the config (a build script) is reported at that key's line, as a diagnostic is. */
function atItsLine(err: unknown, file: string, places: PlaceIndex): unknown {
  if (!(err instanceof VmgenError) || err.at === undefined || err.diagnostics) return err;
  const item = diagnosticAt(places, err.at, 'error', err.code, err.message, err.hint, 'key');
  return new VmgenError(err.code, err.message, { cause: err, diagnostics: { file, items: [item] } });
}

interface BuildFlags {
  target: string;
  out: string;
  format?: ArchiveFormat;
  catalog?: string[];
  cacheDir?: string;
  json?: boolean;
  lxcPath?: string;
  ctid?: string;
  kits?: string;
  baseDisks?: string;
}


/** Cancels the build on Ctrl-C or SIGTERM, so its cleanups run; a second signal is not caught. */
export function abortOnSignals(): { signal: AbortSignal; dispose(): void } {
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
  const command = program
    .command('build')
    .description('build the machine a config describes and write its archive; the path is the last line on stdout')
    .argument('<file>', 'config file')
    .addOption(new Option('-t, --target <target>', 'what to build').choices(BUILDABLE_TARGET_IDS).makeOptionMandatory())
    .option('-o, --out <dir>', 'directory for the archive', '.')
    .addOption(new Option('-f, --format <format>', "archive format (default: the target's own)").choices([...ARCHIVE_FORMATS]))
    .option('--cache-dir <dir>', 'cache directory (default: $VMGEN_CACHE_DIR or /var/cache/vmgen)')
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect)
    .option('--json', 'print {archive, target, name, seconds, run (the commands that start it), and layer (Linux) or root (Windows: how its disks were made)} as JSON on stdout instead of the path');
  withTargetOptions(command)
    .action(async (file: string, flags: BuildFlags) => {
      const target = targetFor(flags.target)!;
      const targetOptions = targetOptionsFrom(flags);
      const catalogs = catalogsFor(io, flags.catalog);
      const { config, sources, places } = loadConfigBeside(io, file, catalogs, target, true, flags.format);
      const reporter = new StepReporter(io.stderr as NodeJS.WriteStream);
      const { signal, dispose } = abortOnSignals();
      const started = Date.now();
      try {
        const result = await build({
          config, catalogs, sources, target: target.id, outDir: resolve(io.cwd, flags.out), signal,
          cacheRoot: flags.cacheDir ? resolve(io.cwd, flags.cacheDir) : defaultCacheRoot(),
          ...(flags.format ? { format: flags.format } : {}),
          targetOptions,
          onEvent: reporter.onEvent,
          log: (line) => reporter.detail(line),
        });
        reporter.finish();
        io.stderr.write(`built ${result.spec.name} for ${target.label} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        // The machine's folders go beside the archive, where the user is already looking.
        const buildable = buildableTarget(target.id);
        const run = runSteps(buildable, {
          spec: result.spec, archive: result.archive, format: flags.format ?? buildable.commander.formats[0]!, options: targetOptions, dir: dirname(result.archive),
        });
        if (flags.json) {
          io.stdout.write(`${JSON.stringify({ archive: result.archive, target: target.id, name: result.spec.name, ...(result.root.kind === 'layer' ? { layer: result.root.layer } : { root: result.root }), run, seconds: (Date.now() - started) / 1000 }, null, 2)}\n`);
        } else {
          io.stdout.write(`${result.archive}\n`);
          // On stderr, after the path: the path stays the last line on stdout, for scripts.
          io.stderr.write(runItText(run));
        }
      } catch (err) {
        throw atItsLine(err, file, places);
      } finally {
        reporter.finish();
        dispose();
      }
    });
};
