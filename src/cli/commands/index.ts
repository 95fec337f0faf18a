import type { RegisterCommand } from './types.js';
import { registerCatalog } from './catalog.js';

export { registerVmgctl } from './edit.js';

/** Every vmgen subcommand, in the order `vmgen --help` lists them. */
export const COMMANDS: readonly RegisterCommand[] = [registerCatalog];
