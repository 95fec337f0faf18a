import type { Target, TargetKind } from './types.js';
import { lxcTarget } from './lxc/index.js';
import { openvzTarget } from './openvz/index.js';
import { ociTarget } from './oci/index.js';
import { vmwareTarget } from './vmware/index.js';
import { qemuTarget } from './qemu/index.js';
import { virtualboxTarget } from './virtualbox/index.js';
import { orList } from '../diagnostics.js';

/**
 * Every target vmgen knows, one line each, in the order they are listed. CLI choices, the schema's
 * target enum, the web form's list and every message that names targets come from here; a target
 * with a commander can be built.
 */
export const TARGETS: readonly Target[] = [
  lxcTarget,
  openvzTarget,
  ociTarget,
  vmwareTarget,
  qemuTarget,
  virtualboxTarget,
];

export const TARGET_IDS = TARGETS.map((t) => t.id);
export const BUILDABLE_TARGET_IDS = TARGETS.filter((t) => t.commander).map((t) => t.id);

export function findTarget(id: string): Target | undefined {
  return TARGETS.find((t) => t.id === id);
}

/** The ids of the targets of a kind, in the table's order. */
export function targetIdsOf(kind: TargetKind): string[] {
  return TARGETS.filter((t) => t.kind === kind).map((t) => t.id);
}

/** "vmware, qemu or virtualbox": the targets of a kind as a hint lists them. */
export function targetsOfKindText(kind: TargetKind): string {
  return orList(targetIdsOf(kind));
}
