import { under, unpackArgv } from '../run-commands.js';
import type { RunCommand, RunContext } from '../types.js';

/** Where `ovftool` deploys an OVA: the user's ESXi host, which only they can name. */
export const ESXI_PLACEHOLDER = 'vi://root@ESXI-HOST/';

/**
 * The .vmx and its disks are for the hosted products, unpacked in a folder of their own and
 * started with vmrun (which wants the .vmx by a full path); the OVA is for ESXi, deployed by ovftool.
 */
export function vmwareRunCommands(ctx: RunContext): RunCommand[] {
  const name = ctx.spec.name;
  if (ctx.format === 'ova') {
    return [{
      what: 'deploy it to an ESXi host and power it on (put in the host; map the nat and hostonly networks to port groups with --net:nat=PORTGROUP)',
      argv: ['ovftool', `--name=${name}`, '--powerOn', ctx.archive, ESXI_PLACEHOLDER],
    }];
  }
  const dir = under(ctx.dir, name);
  return [
    { what: 'a folder for the machine', argv: ['mkdir', '-p', dir] },
    { what: `unpack ${name}.vmx and its disks`, argv: unpackArgv(ctx.archive, ctx.format, dir) },
    { what: 'start it in VMware Workstation (Player: -T player, Fusion: -T fusion)', argv: ['vmrun', '-T', 'ws', 'start', under(dir, `${name}.vmx`)] },
  ];
}
