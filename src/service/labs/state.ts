import type { BuildState, LabState } from '../web/shared-types.js';

/** What a lab's state is derived from: its jobs' states and what the service recorded about it. */
export interface LabStateInput {
  machines: readonly BuildState[];
  /** The assembly job's state, once there is one. */
  assembly?: BuildState;
  /** Its owner cancelled it. */
  canceled: boolean;
}

const FINAL_LAB: Record<LabState, boolean> = { queued: false, running: false, done: true, failed: true, cancelled: true };

export const LAB_STATES = Object.keys(FINAL_LAB) as LabState[];

export function isFinalLabState(state: LabState): boolean {
  return FINAL_LAB[state];
}

/**
 * A lab's state from its jobs: nothing is stored that the jobs already say. A failed machine or
 * assembly fails the lab (its other jobs are cancelled: a lab with a machine missing cannot be
 * assembled); a cancel by the owner, or a job cancelled by anyone, cancels it; it is done when the
 * assembly has stored the archive, queued while no job has started, and running in between.
 */
export function labState(input: LabStateInput): LabState {
  const all = [...input.machines, ...(input.assembly ? [input.assembly] : [])];
  if (input.canceled) return 'cancelled';
  if (all.includes('failed')) return 'failed';
  if (all.includes('canceled')) return 'cancelled';
  if (input.assembly === 'succeeded') return 'done';
  if (input.assembly === undefined && input.machines.every((s) => s === 'queued')) return 'queued';
  return 'running';
}
