import { containerLimits, vmwareMacLimits } from './limits.js';
import { lxcCommander } from './lxc/index.js';
import { ociCommander } from './oci/index.js';
import { openvzCommander } from './openvz/index.js';
import type { Target } from './types.js';
import { qemuCommander } from './qemu/index.js';
import { virtualboxCommander } from './virtualbox/index.js';
import { vmwareCommander } from './vmware/index.js';

/**
 * Every target vmgen knows, one line each. CLI choices, the schema's target enum and the web
 * form's list all come from here; a target with a commander can be built.
 */
export const TARGETS: readonly Target[] = [
  { id: 'lxc', kind: 'container', label: 'LXC', check: (c, os, r) => containerLimits(c, os, r, 'LXC'), commander: lxcCommander },
  { id: 'openvz', kind: 'container', label: 'OpenVZ', check: (c, os, r) => containerLimits(c, os, r, 'OpenVZ'), commander: openvzCommander },
  { id: 'oci', kind: 'container', label: 'OCI image', check: (c, os, r) => containerLimits(c, os, r, 'OCI'), commander: ociCommander },
  { id: 'vmware', kind: 'vm', label: 'VMware', check: (c, _os, r) => vmwareMacLimits(c, r), commander: vmwareCommander },
  { id: 'qemu', kind: 'vm', label: 'QEMU/KVM (libvirt)', check: () => {}, commander: qemuCommander },
  { id: 'virtualbox', kind: 'vm', label: 'VirtualBox (OVA)', check: () => {}, commander: virtualboxCommander },
];

export const TARGET_IDS = TARGETS.map((t) => t.id);
export const BUILDABLE_TARGET_IDS = TARGETS.filter((t) => t.commander).map((t) => t.id);

export function findTarget(id: string): Target | undefined {
  return TARGETS.find((t) => t.id === id);
}
