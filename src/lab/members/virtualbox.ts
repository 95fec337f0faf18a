import { join } from 'node:path';
import { packageOva } from '../../targets/ovf/package.js';
import { renderOvf, type OvfOptions } from '../../targets/virtualbox/render.js';
import type { ResolvedSpec } from '../../config/resolve.js';
import type { VmLayout } from '../../disks/layout.js';
import type { LabManifestNetwork } from '../manifest.js';
import type { LabMachine } from '../types.js';
import type { MemberPackRow } from './types.js';

/** Each NIC's internal network: the lab network's `internalNetwork`. */
export function labInternalNetworks(machine: LabMachine, networks: readonly LabManifestNetwork[]): Record<string, string> {
  return Object.fromEntries(machine.nics.map((nic) => {
    const net = networks.find((n) => n.name === nic.network);
    if (net === undefined) throw new Error(`${machine.name}.${nic.nic}: no network ${nic.network}`);
    return [nic.nic, net.internalNetwork];
  }));
}

/** The machine's OVF descriptor through the virtualbox target's renderer, its NICs on the lab's internal networks. */
export function labOvf(spec: ResolvedSpec, layout: VmLayout, input: { machine: LabMachine; networks: readonly LabManifestNetwork[] }, opts: OvfOptions): string {
  return renderOvf(spec, layout, { ...opts, internalNetworks: labInternalNetworks(input.machine, input.networks) });
}

/** A VirtualBox member: one OVA per machine (VirtualBox imports appliances one by one), its NICs wired. */
export const virtualboxMember: MemberPackRow = {
  labFormat: 'tar',
  async pack(ctx, { machine, networks, machineDir }) {
    const ova = `${machine.name}.ova`;
    await packageOva({ ...ctx, output: join(machineDir, ova) }, (spec, layout, contents) => labOvf(spec, layout, { machine, networks }, contents));
    return { files: { ova } };
  },
};
