import { resolve } from 'node:path';
import { Option } from 'commander';
import { defaultCacheRoot, LayerCache } from '../../cache/store.js';
import { resolveSpec } from '../../config/resolve.js';
import { defaultMirror } from '../../orchestrator/mirror.js';
import { verifyArchive } from '../../verify/verify.js';
import { resolveVmLayout } from '../../disks/layout.js';
import { formatResults } from '../../verify/checks.js';
import { catalogsFor, collect, loadValidConfig } from '../shared.js';
import type { RegisterCommand } from './types.js';

export const registerVerify: RegisterCommand = (program, io, setExit) => {
  program
    .command('verify')
    .description('start a built guest (containers: lxc, systemd-nspawn, podman; VMs: qemu) and check it against its config from inside')
    .argument('<archive>', 'archive made by vmgen build')
    .requiredOption('-c, --config <file>', 'the config it was built from')
    .addOption(new Option('--net <mode>', 'lxc: replace the NICs (empty) or keep them off any bridge (veth); default: veth only where the bridge is missing').choices(['empty', 'veth']))
    .option('--cache-dir <dir>', 'cache directory, for scratch space')
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect)
    .option('--json', 'print {runtime, notes, results, ok} as JSON on stdout')
    .action(async (archive: string, flags: { config: string; net?: 'empty' | 'veth'; cacheDir?: string; catalog?: string[]; json?: boolean }) => {
      const catalogs = catalogsFor(io, flags.catalog);
      const config = loadValidConfig(io, flags.config, catalogs, undefined, false);
      const spec = resolveSpec(config, catalogs, { target: 'verify', defaultMirror: config.config.mirror ?? safeMirror(catalogs, config.hardware.os) });
      const cache = new LayerCache(flags.cacheDir ? resolve(io.cwd, flags.cacheDir) : defaultCacheRoot());
      const controller = new AbortController();
      const onSignal = (): void => controller.abort(new Error('interrupted'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const report = await verifyArchive({
          archive: resolve(io.cwd, archive), spec, layout: resolveVmLayout(config, spec.os, spec.name), workDir: await cache.newWorkDir('verify'),
          ...(flags.net ? { netOverride: flags.net } : {}), signal: controller.signal,
          log: (line) => io.stderr.write(`${line}\n`),
        });
        if (flags.json) {
          io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        } else {
          io.stdout.write(`runtime: ${report.runtime}\n`);
          for (const note of report.notes) io.stdout.write(`note: ${note}\n`);
          io.stdout.write(formatResults(report.results));
          if (!report.ok && report.console?.length) io.stdout.write(`console, last lines:\n${report.console.map((l) => `  | ${l}`).join('\n')}\n`);
        }
        if (!report.ok) setExit(1);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
};

/** verify needs no mirror; the spec just wants one, so a host without apt sources still verifies. */
function safeMirror(catalogs: Parameters<typeof defaultMirror>[0], os: string): string {
  try {
    return defaultMirror(catalogs, os);
  } catch {
    return 'http://mirror.invalid/';
  }
}
