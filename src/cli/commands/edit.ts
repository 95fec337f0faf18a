import type { RegisterCommand } from './types.js';

export const registerVmgctl: RegisterCommand = (program) => {
  program.argument('<file>').argument('<assignments...>');
};
