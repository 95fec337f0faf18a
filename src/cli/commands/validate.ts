import { dirname, resolve } from 'node:path';
import { loadConfig } from '../../validate/load.js';
import { dirSources } from '../../config/sources.js';
import { hasErrors } from '../../diagnostics.js';
import { VmgenError } from '../../errors.js';
import { catalogsFor, collect, printDiagnostics, readConfigText, targetFor } from '../shared.js';
import { TARGET_IDS } from '../../targets/registry.js';
import { ARCHIVE_FORMATS, type ArchiveFormat } from '../../targets/types.js';
import { Option } from 'commander';
import type { RegisterCommand } from './types.js';

export const registerValidate: RegisterCommand = (program, io, setExit) => {
  program
    .command('validate')
    .description('check a config file: syntax, types and meaning; every problem at once')
    .argument('<file>', 'config file')
    .option('-t, --target <target>', `also check the limits of a target (${TARGET_IDS.join(', ')})`)
    .addOption(new Option('-f, --format <format>', 'with --target: also check what that archive format asks of the machine (box: sshd, DHCP, BIOS)').choices([...ARCHIVE_FORMATS]))
    .option('--json', 'print {file, valid, diagnostics} as JSON on stdout')
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect)
    .action((file: string, opts: { target?: string; format?: ArchiveFormat; json?: boolean; catalog?: string[] }) => {
      const target = targetFor(opts.target);
      let text: string;
      try {
        text = readConfigText(io, file);
      } catch (err) {
        // Even a file that cannot be decoded gets its JSON report.
        if (!(opts.json && err instanceof VmgenError && err.diagnostics)) throw err;
        io.stdout.write(`${JSON.stringify({ file, valid: false, diagnostics: err.diagnostics.items }, null, 2)}\n`);
        setExit(1);
        return;
      }
      const sources = dirSources(dirname(resolve(io.cwd, file)));
      const result = loadConfig(text, { catalogs: catalogsFor(io, opts.catalog), ...(target ? { target } : {}), ...(opts.format ? { format: opts.format } : {}), sources });
      const valid = !hasErrors(result.diagnostics);
      if (opts.json) {
        io.stdout.write(`${JSON.stringify({ file, valid, diagnostics: result.diagnostics }, null, 2)}\n`);
      } else {
        printDiagnostics(io, file, result.diagnostics);
        const warnings = result.diagnostics.filter((d) => d.severity === 'warning').length;
        const errors = result.diagnostics.length - warnings;
        io.stderr.write(valid
          ? `${file}: valid${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}\n`
          : `${file}: ${errors} error${errors > 1 ? 's' : ''}${warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}\n`);
      }
      if (!valid) setExit(1);
    });
};
