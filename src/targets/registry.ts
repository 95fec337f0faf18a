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
 * target enum, the web form's list and every message that names targets come from here. A row holds
 * what validation needs (the target's limits); its Commander is in the commander table
 * (commanders.ts), keyed by these ids, which the type checker makes complete.
 */
export const TARGETS = [
  lxcTarget,
  openvzTarget,
  ociTarget,
  vmwareTarget,
  qemuTarget,
  virtualboxTarget,
] as const satisfies readonly Target[];

/** A target's id: what the commander table is keyed by. */
export type TargetId = (typeof TARGETS)[number]['id'];

export const TARGET_IDS: TargetId[] = TARGETS.map((t) => t.id);

export function findTarget(id: string): Target | undefined {
  return (TARGETS as readonly Target[]).find((t) => t.id === id);
}

/** The ids of the targets of a kind, in the table's order. */
export function targetIdsOf(kind: TargetKind): string[] {
  return TARGETS.filter((t) => t.kind === kind).map((t) => t.id);
}

/** "vmware, qemu or virtualbox": the targets of a kind as a hint lists them. */
export function targetsOfKindText(kind: TargetKind): string {
  return orList(targetIdsOf(kind));
}
