import type { RegisterCommand } from './types.js';
import { registerCache } from './cache.js';
import { registerBuild } from './build.js';
import { registerCatalog } from './catalog.js';
import { registerRender } from './render.js';
import { registerVerify } from './verify.js';
import { registerGet, registerSet, registerUnset } from './edit.js';
import { registerParse } from './parse.js';
import { registerSchema } from './schema.js';
import { registerValidate } from './validate.js';
import { registerServe } from './serve.js';
import { registerToken } from './token.js';
import { registerSubmit } from './submit.js';
import { registerWorker } from './worker.js';
import { registerLab } from './lab.js';

export { registerVmgctl } from './edit.js';

/** Every vmgen subcommand, in the order `vmgen --help` lists them. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerValidate,
  registerBuild,
  registerRender,
  registerVerify,
  registerParse,
  registerSchema,
  registerSet,
  registerGet,
  registerUnset,
  registerCatalog,
  registerCache,
  registerServe,
  registerToken,
  registerSubmit,
  registerWorker,
  registerLab,
];
