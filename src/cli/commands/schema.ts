import { configJsonSchema } from '../../config/json-schema.js';
import { labJsonSchema } from '../../lab/model.js';
import { catalogsFor, collect } from '../shared.js';
import type { RegisterCommand } from './types.js';

export const registerSchema: RegisterCommand = (program, io) => {
  program
    .command('schema')
    .description('print the JSON Schema of the config model (--lab: of the lab file)')
    .option('--lab', 'the lab file\'s schema instead of the machine config\'s')
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect)
    .action((opts: { lab?: boolean; catalog?: string[] }) => {
      const schema = opts.lab ? labJsonSchema() : configJsonSchema(catalogsFor(io, opts.catalog));
      io.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    });
};
