import { configJsonSchema } from '../../config/json-schema.js';
import { catalogsFor, collect } from '../shared.js';
import type { RegisterCommand } from './types.js';

export const registerSchema: RegisterCommand = (program, io) => {
  program
    .command('schema')
    .description('print the JSON Schema of the config model')
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect)
    .action((opts: { catalog?: string[] }) => {
      io.stdout.write(`${JSON.stringify(configJsonSchema(catalogsFor(io, opts.catalog)), null, 2)}\n`);
    });
};
