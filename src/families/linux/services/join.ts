import type { GuestPlan } from '../../types.js';

/** Plans one after another: files, links and commands each in the order of the plans given. */
export function joinPlans(...plans: readonly GuestPlan[]): GuestPlan {
  return {
    files: plans.flatMap((p) => p.files),
    links: plans.flatMap((p) => p.links),
    commands: plans.flatMap((p) => p.commands),
  };
}
