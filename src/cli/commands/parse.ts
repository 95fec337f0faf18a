import { toOrderedJson, writeTree, toPlain, UnquotableError } from '../../config/ini/index.js';
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
      if (opts.json) {
        io.stdout.write(`${toOrderedJson(doc.root)}\n`);
        return;
      }
      let text: string;
      try {
        text = writeTree(toPlain(doc.root));
      } catch (e) {
        // ConfigObj reads some values that no spelling in its syntax gives back (a list item holding
        // both `", ` and `', `): the tree is still printed, as JSON, rather than not at all.
        if (!(e instanceof UnquotableError)) throw e;
        io.stderr.write(`vmgen parse: ${e.message}; printing the tree as JSON\n`);
        text = `${toOrderedJson(doc.root)}\n`;
      }
      io.stdout.write(text);
    });
};
