import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedSpec } from '../../config/resolve.js';
import type { VmLayout } from '../../disks/layout.js';
import { vmwareCommander } from '../../targets/vmware/commander.js';
import { renderVmx, type VmxSegment } from '../../targets/vmware/render.js';
import { convertImages, placeIsos } from '../../targets/vm/common.js';
import type { LabManifestNetwork } from '../manifest.js';
import { labSegmentId } from '../topology/vmware.js';
import type { LabMachine } from '../types.js';
import type { MemberPackRow } from './types.js';
import { wholeMember } from './whole.js';

/** Each NIC's LAN segment: the lab network's segment name and the id topology/segments.json lists for it. */
export function labVmxSegments(lab: string, machine: LabMachine, networks: readonly LabManifestNetwork[]): Record<string, VmxSegment> {
  return Object.fromEntries(machine.nics.map((nic) => {
    const net = networks.find((n) => n.name === nic.network);
    if (net === undefined) throw new Error(`${machine.name}.${nic.nic}: no network ${nic.network}`);
    return [nic.nic, { pvnID: labSegmentId(lab, net.name), name: net.segment }];
  }));
}

/**
 * The machine's .vmx through the vmware target's renderer, its NICs on the lab's LAN segments. The
 * MACs stay static: a lab built for VMware makes them in VMware's static range (TargetLimits.staticMacs).
 */
export function labVmx(spec: ResolvedSpec, layout: VmLayout, input: { lab: string; machine: LabMachine; networks: readonly LabManifestNetwork[] },
  files: { diskFiles: Record<string, string>; isoFiles: Record<string, string> }): string {
  return renderVmx(spec, layout, { ...files, segments: labVmxSegments(input.lab, input.machine, input.networks) });
}

/**
 * A VMware member: NAME.vmx and its monolithicSparse disks, copied per machine (a VMDK cannot name a
 * backing file in another directory the way qcow2 can, and Workstation's linked clones need the
 * parent registered as a VM with a snapshot).
 */
export const vmwareMember: MemberPackRow = {
  labFormat: 'tar',
  async pack(ctx, input) {
    const vm = ctx.vm;
    if (vm === undefined) return wholeMember(vmwareCommander).pack(ctx, input);
    const diskFiles = await convertImages(vm.images, vm.layout, input.machineDir, 'vmdk', ctx.signal, { subformat: 'monolithicSparse' });
    const { names: isoFiles, shipped } = await placeIsos(vm.layout, input.machineDir);
    const vmx = `${ctx.spec.name}.vmx`;
    await writeFile(join(input.machineDir, vmx), labVmx(ctx.spec, vm.layout, { lab: input.lab.name, machine: input.machine, networks: input.networks }, { diskFiles, isoFiles }));
    return {
      files: {
        vmx,
        ...Object.fromEntries(Object.entries(diskFiles).map(([disk, file]) => [`disk:${disk}`, file])),
        ...Object.fromEntries(shipped.map((iso) => [`iso:${iso}`, iso])),
      },
    };
  },
};
