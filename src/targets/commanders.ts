import { VmgenError } from '../errors.js';
import { lxcCommander } from './lxc/commander.js';
import { openvzCommander } from './openvz/commander.js';
import { ociCommander } from './oci/commander.js';
import { vmwareCommander } from './vmware/commander.js';
import { qemuCommander } from './qemu/commander.js';
import { virtualboxCommander } from './virtualbox/commander.js';
import { TARGETS, type TargetId } from './registry.js';
import type { BuildableTarget, Commander } from './types.js';

/**
 * Each target's Commander (what renders and packs its archive), one line per row of the registry;
 * `undefined` for a target that cannot be built yet. Apart from the registry because it is most of
 * the targets' code (archive writers, disks, OVF): `vmgen validate` reads the registry only, and
 * what renders, builds or runs imports this.
 */
export const COMMANDERS: Record<TargetId, Commander | undefined> = {
  lxc: lxcCommander,
  openvz: openvzCommander,
  oci: ociCommander,
  vmware: vmwareCommander,
  qemu: qemuCommander,
  virtualbox: virtualboxCommander,
};

/** The targets with a commander, in the registry's order. */
export const BUILDABLE_TARGETS: readonly BuildableTarget[] = TARGETS.flatMap((t) => {
  const commander = COMMANDERS[t.id];
  return commander ? [{ ...t, commander }] : [];
});

export const BUILDABLE_TARGET_IDS = BUILDABLE_TARGETS.map((t) => t.id);

/** The buildable target `id` names, if any. */
export function findBuildable(id: string): BuildableTarget | undefined {
  return BUILDABLE_TARGETS.find((t) => t.id === id);
}

/** The target a build is for, or why it cannot be built. */
export function buildableTarget(id: string): BuildableTarget {
  const target = findBuildable(id);
  if (!target) throw new VmgenError('VMG_UNSUPPORTED', `target ${id} cannot be built yet`, { hint: `buildable targets: ${BUILDABLE_TARGET_IDS.join(', ')}` });
  return target;
}
