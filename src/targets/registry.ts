import { lxcCommander, lxcLimits } from './lxc/index.js';
import { ociCommander, ociLimits } from './oci/index.js';
import { openvzCommander, openvzLimits } from './openvz/index.js';
import type { Target } from './types.js';
import { qemuCommander, qemuLimits } from './qemu/index.js';
import { virtualboxCommander, virtualboxLimits } from './virtualbox/index.js';
import { vmwareCommander, vmwareLimits } from './vmware/index.js';

/**
 * Every target vmgen knows, one line each. CLI choices, the schema's target enum and the web
 * form's list all come from here; a target with a commander can be built.
 */
export const TARGETS: readonly Target[] = [
  { id: 'lxc', kind: 'container', label: 'LXC', check: lxcLimits, commander: lxcCommander },
  { id: 'openvz', kind: 'container', label: 'OpenVZ', check: openvzLimits, commander: openvzCommander },
  { id: 'oci', kind: 'container', label: 'OCI image', check: ociLimits, commander: ociCommander },
  { id: 'vmware', kind: 'vm', label: 'VMware', check: vmwareLimits, commander: vmwareCommander },
  { id: 'qemu', kind: 'vm', label: 'QEMU/KVM (libvirt)', check: qemuLimits, commander: qemuCommander },
  { id: 'virtualbox', kind: 'vm', label: 'VirtualBox (OVA)', check: virtualboxLimits, commander: virtualboxCommander },
];

export const TARGET_IDS = TARGETS.map((t) => t.id);
export const BUILDABLE_TARGET_IDS = TARGETS.filter((t) => t.commander).map((t) => t.id);

export function findTarget(id: string): Target | undefined {
  return TARGETS.find((t) => t.id === id);
}
