import { dirname, resolve } from 'node:path';
import { formatDiagnostic, hasErrors } from '../../diagnostics.js';
import { dirSources } from '../../config/sources.js';
import { loadLab } from '../../lab/load.js';
import { TARGET_IDS } from '../../targets/registry.js';
import { catalogsFor, collect, readConfigText, targetFor } from '../shared.js';
import type { RegisterLabCommand } from './types.js';

export const registerLabValidate: RegisterLabCommand = (lab, io, setExit) => {
  lab
    .command('validate')
    .description('check a lab file and every machine as it will be built; every problem at its line in the file it is in')
    .argument('<labfile>', 'lab file')
    .option('-t, --target <target>', `also check each machine against a target's limits (${TARGET_IDS.join(', ')})`)
    .option('--json', 'print {file, valid, machines, networks, diagnostics} as JSON on stdout')
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect)
    .action((file: string, opts: { target?: string; json?: boolean; catalog?: string[] }) => {
      const target = targetFor(opts.target);
      const text = readConfigText(io, file);
      const result = loadLab(text, {
        catalogs: catalogsFor(io, opts.catalog), ...(target ? { target } : {}), sources: dirSources(dirname(resolve(io.cwd, file))), file,
      });
      const valid = !hasErrors(result.diagnostics);
      if (opts.json) {
        io.stdout.write(`${JSON.stringify({
          file, valid, machines: result.lab?.machines.length ?? 0, networks: result.lab?.networks.length ?? 0, diagnostics: result.diagnostics,
        }, null, 2)}\n`);
      } else {
        for (const d of result.diagnostics) io.stderr.write(`${formatDiagnostic(d.file, d)}\n`);
        const warnings = result.diagnostics.filter((d) => d.severity === 'warning').length;
        const errors = result.diagnostics.length - warnings;
        const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
        io.stderr.write(result.lab
          ? `${file}: valid (${plural(result.lab.machines.length, 'machine')} on ${plural(result.lab.networks.length, 'network')})${warnings ? `, ${plural(warnings, 'warning')}` : ''}\n`
          : `${file}: ${plural(errors, 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}\n`);
      }
      if (!valid) setExit(1);
    });
};
