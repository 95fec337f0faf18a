import type { RegisterCommand } from './types.js';

/**
 * Every vmgen subcommand, in the order `vmgen --help` lists them, each loaded only when wanted:
 * `vmgen validate` then never loads the service, the queue or the builders (program.ts).
 * A test checks that each entry registers exactly the command its name says.
 */
export interface CommandEntry {
  name: string;
  load(): Promise<RegisterCommand>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'validate', load: async () => (await import('./validate.js')).registerValidate },
  { name: 'build', load: async () => (await import('./build.js')).registerBuild },
  { name: 'render', load: async () => (await import('./render.js')).registerRender },
  { name: 'verify', load: async () => (await import('./verify.js')).registerVerify },
  { name: 'parse', load: async () => (await import('./parse.js')).registerParse },
  { name: 'schema', load: async () => (await import('./schema.js')).registerSchema },
  { name: 'set', load: async () => (await import('./edit.js')).registerSet },
  { name: 'get', load: async () => (await import('./edit.js')).registerGet },
  { name: 'unset', load: async () => (await import('./edit.js')).registerUnset },
  { name: 'catalog', load: async () => (await import('./catalog.js')).registerCatalog },
  { name: 'cache', load: async () => (await import('./cache.js')).registerCache },
  { name: 'serve', load: async () => (await import('./serve.js')).registerServe },
  { name: 'token', load: async () => (await import('./token.js')).registerToken },
  { name: 'submit', load: async () => (await import('./submit.js')).registerSubmit },
  { name: 'worker', load: async () => (await import('./worker.js')).registerWorker },
  { name: 'lab', load: async () => (await import('./lab.js')).registerLab },
];

export const loadVmgctl = async (): Promise<RegisterCommand> => (await import('./edit.js')).registerVmgctl;
