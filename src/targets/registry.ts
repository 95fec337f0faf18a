import { lxcCommander, lxcLimits } from './lxc/index.js';
import { ociCommander, ociLimits } from './oci/index.js';
import { openvzCommander, openvzLimits } from './openvz/index.js';
import { TARGET_IDS, TARGET_KINDS, type TargetId } from '../catalog/targets.js';
import type { Target } from './types.js';
import { qemuCommander, qemuLimits } from './qemu/index.js';
import { virtualboxCommander, virtualboxLimits } from './virtualbox/index.js';
import { vmwareCommander, vmwareLimits } from './vmware/index.js';

/**
 * Every target vmgen knows, one line each; its id and kind are in src/catalog/targets.ts. CLI choices, the
 * schema's target enum and the web form's list all come from here; a target with a commander can
 * be built.
 */
const ROWS: Record<TargetId, Omit<Target, 'id' | 'kind'>> = {
  lxc: { label: 'LXC', check: lxcLimits, commander: lxcCommander },
  openvz: { label: 'OpenVZ', check: openvzLimits, commander: openvzCommander },
  oci: { label: 'OCI image', check: ociLimits, commander: ociCommander },
  vmware: { label: 'VMware', check: vmwareLimits, commander: vmwareCommander },
  qemu: { label: 'QEMU/KVM (libvirt)', check: qemuLimits, commander: qemuCommander },
  virtualbox: { label: 'VirtualBox (OVA)', check: virtualboxLimits, commander: virtualboxCommander },
};

export const TARGETS: readonly Target[] = TARGET_IDS.map((id) => ({ id, kind: TARGET_KINDS[id], ...ROWS[id] }));

export { TARGET_IDS } from '../catalog/targets.js';
export const BUILDABLE_TARGET_IDS = TARGETS.filter((t) => t.commander).map((t) => t.id);

export function findTarget(id: string): Target | undefined {
  return TARGETS.find((t) => t.id === id);
}
