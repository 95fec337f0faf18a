import { lxcTopology } from './lxc.js';
import { ociTopology } from './oci.js';
import { qemuTopology } from './qemu.js';
import type { TopologyRenderer } from './types.js';
import { virtualboxTopology } from './virtualbox.js';
import { vmwareTopology } from './vmware.js';

/** Each buildable target's topology renderer, keyed like src/targets/registry.ts (openvz has no lab form). */
export const LAB_TOPOLOGY: Readonly<Record<string, TopologyRenderer>> = {
  lxc: lxcTopology,
  oci: ociTopology,
  qemu: qemuTopology,
  vmware: vmwareTopology,
  virtualbox: virtualboxTopology,
};
