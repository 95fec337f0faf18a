import type { RunCommand, RunContext } from '../types.js';

/** The appliance's own machine section names the VM after the machine; keepallmacs keeps the configured MACs. */
export function virtualboxRunCommands(ctx: RunContext): RunCommand[] {
  return [
    { what: 'import the appliance, keeping its MAC addresses', argv: ['VBoxManage', 'import', ctx.archive, '--options', 'keepallmacs'] },
    { what: 'start it', argv: ['VBoxManage', 'startvm', ctx.spec.name] },
  ];
}
