import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import { defaultCacheRoot } from '../../cache/store.js';
import { dirSources } from '../../config/sources.js';
import { formatDiagnostic } from '../../diagnostics.js';
import { buildLab, DEFAULT_LAB_PARALLEL } from '../../lab/build.js';
import { loadLab } from '../../lab/load.js';
import { MEMBER_PACKERS } from '../../lab/members/registry.js';
import { StepReporter } from '../progress.js';
import { catalogsFor, collect, readConfigText, targetFor } from '../shared.js';
import { abortOnSignals } from './build.js';
import type { RegisterLabCommand } from './types.js';

interface LabBuildFlags {
  target: string;
  out: string;
  cacheDir?: string;
  labDir?: string;
  catalog?: string[];
  json?: boolean;
  parallel?: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 64) throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
}

export const registerLabBuild: RegisterLabCommand = (lab, io, setExit) => {
  lab
    .command('build')
    .description("build every machine of a lab for one target, sharing their bases, into one archive; the path is the last line on stdout")
    .argument('<labfile>', 'lab file')
    .addOption(new Option('-t, --target <target>', 'what to build').choices(Object.keys(MEMBER_PACKERS)).makeOptionMandatory())
    .option('-o, --out <dir>', 'directory for the archive', '.')
    .option('--lab-dir <dir>', 'lxc: the absolute directory the archive will be unpacked into (default /var/lib/vmgen/labs/LAB)')
    .option('--cache-dir <dir>', 'cache directory (default: $VMGEN_CACHE_DIR or /var/cache/vmgen)')
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect)
    .option('-j, --parallel <n>', `machines built at once (default ${DEFAULT_LAB_PARALLEL})`, positiveInt)
    .option('--json', 'print {archive, target, lab, machines, seconds} as JSON on stdout instead of the path')
    .action(async (file: string, flags: LabBuildFlags) => {
      const target = targetFor(flags.target)!;
      const catalogs = catalogsFor(io, flags.catalog);
      const text = readConfigText(io, file);
      const labDir = dirname(resolve(io.cwd, file));
      const loaded = loadLab(text, { catalogs, target, sources: dirSources(labDir), file });
      for (const d of loaded.diagnostics) io.stderr.write(`${formatDiagnostic(d.file, d)}\n`);
      if (loaded.lab === undefined) {
        setExit(1);
        return;
      }
      const built = loaded.lab;
      // The lab's inputs as given: the lab file and each entry's config, once.
      const inputs = new Map<string, string>([[relative(labDir, resolve(io.cwd, file)), text]]);
      for (const m of built.machines) if (!inputs.has(m.configPath)) inputs.set(m.configPath, readFileSync(resolve(labDir, m.configPath), 'utf8'));
      const reporter = new StepReporter(io.stderr as NodeJS.WriteStream);
      const { signal, dispose } = abortOnSignals();
      const started = Date.now();
      try {
        const archive = await buildLab(built, target.id, resolve(io.cwd, flags.out), {
          catalogs, cacheRoot: flags.cacheDir ? resolve(io.cwd, flags.cacheDir) : defaultCacheRoot(), signal,
          ...(flags.labDir ? { labDir: flags.labDir } : {}),
          ...(flags.parallel === undefined ? {} : { parallel: flags.parallel }),
          inputs: [...inputs],
          onEvent: reporter.onEvent,
          log: (line) => reporter.detail(line),
          onMachine: (name, state, i, total) => {
            reporter.finish();
            io.stderr.write(state === 'start' ? `machine ${i + 1}/${total}: ${name}\n` : `machine ${name}: built\n`);
          },
        });
        reporter.finish();
        const seconds = (Date.now() - started) / 1000;
        io.stderr.write(`built lab ${built.name} (${built.machines.length} machines) for ${target.label} in ${seconds.toFixed(1)} s\n`);
        io.stdout.write(flags.json
          ? `${JSON.stringify({ archive, target: target.id, lab: built.name, machines: built.machines.map((m) => m.name), seconds }, null, 2)}\n`
          : `${archive}\n`);
      } finally {
        reporter.finish();
        dispose();
      }
    });
};
