import { orList } from '../diagnostics.js';

export type TargetKind = 'container' | 'vm';

/**
 * Every target's id and the kind of guest it builds: the names, low enough (with the other tables
 * of names in catalog/) for the limits, the layers and messages anywhere to list targets without
 * importing their implementations. src/targets/registry.ts gives each id its row; an id without a
 * row is a type error.
 */
export const TARGET_KINDS = {
  lxc: 'container',
  openvz: 'container',
  oci: 'container',
  vmware: 'vm',
  qemu: 'vm',
  virtualbox: 'vm',
} as const satisfies Record<string, TargetKind>;

export type TargetId = keyof typeof TARGET_KINDS;

export const TARGET_IDS = Object.keys(TARGET_KINDS) as [TargetId, ...TargetId[]];

/** The ids of the targets of a kind, in the table's order. */
export function targetIdsOf(kind: TargetKind): TargetId[] {
  return TARGET_IDS.filter((id) => TARGET_KINDS[id] === kind);
}

/** "vmware, qemu or virtualbox": the targets of a kind as a hint lists them. */
export function targetsOfKindText(kind: TargetKind): string {
  return orList(targetIdsOf(kind));
}
