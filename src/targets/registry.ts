import { containerLimits, vmwareMacLimits, type TargetLimits } from './limits.js';

/**
 * Every target vmgen knows, one line each. CLI choices, the schema's target enum and the web
 * form's list all come from here.
 */
export const TARGETS: readonly TargetLimits[] = [
  { id: 'lxc', kind: 'container', label: 'LXC', check: (c, os, r) => containerLimits(c, os, r, 'LXC') },
  { id: 'openvz', kind: 'container', label: 'OpenVZ', check: (c, os, r) => containerLimits(c, os, r, 'OpenVZ') },
  { id: 'oci', kind: 'container', label: 'OCI image', check: (c, os, r) => containerLimits(c, os, r, 'OCI') },
  { id: 'vmware', kind: 'vm', label: 'VMware', check: (c, _os, r) => vmwareMacLimits(c, r) },
  { id: 'qemu', kind: 'vm', label: 'QEMU/KVM (libvirt)', check: () => {} },
  { id: 'virtualbox', kind: 'vm', label: 'VirtualBox (OVA)', check: () => {} },
];

export const TARGET_IDS = TARGETS.map((t) => t.id);

export function findTarget(id: string): TargetLimits | undefined {
  return TARGETS.find((t) => t.id === id);
}
