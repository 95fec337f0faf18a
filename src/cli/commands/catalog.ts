import type { RegisterCommand } from './types.js';

export const registerCatalog: RegisterCommand = (program) => {
  program.command('catalog').description('(in progress)');
};
