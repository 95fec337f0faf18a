import { toOrderedJson, writeTree, toPlain } from '../../config/ini/index.js';
import { parseIni } from '../../config/ini/parse.js';
import { printDiagnostics, readConfigText } from '../shared.js';
import type { RegisterCommand } from './types.js';

export const registerParse: RegisterCommand = (program, io, setExit) => {
  program
    .command('parse')
    .description('print the raw tree of a config file, as ConfigObj reads it')
    .argument('<file>', 'config file')
    .option('--json', 'print JSON (sections as objects, values as strings or lists)')
    .action((file: string, opts: { json?: boolean }) => {
      const { doc, diagnostics } = parseIni(readConfigText(io, file));
      if (diagnostics.length > 0) {
        printDiagnostics(io, file, diagnostics);
        setExit(1);
        return;
      }
      io.stdout.write(opts.json ? `${toOrderedJson(doc.root)}\n` : writeTree(toPlain(doc.root)));
    });
};
