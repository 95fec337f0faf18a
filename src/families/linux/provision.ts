import type { GuestContext, GuestPlan } from '../types.js';
import { guestCopies } from './copies.js';
import { firstBootPlan } from './first-boot.js';

/**
 * A Linux family's plan with the config's [files] and first-boot [scripts] added: both families
 * place them the same way. The copies come after the first-boot scripts' so a [files] entry can
 * still replace anything vmgen writes.
 */
export function withProvision(ctx: GuestContext, plan: GuestPlan): GuestPlan {
  const boot = firstBootPlan(ctx.spec);
  return {
    ...plan,
    files: [...plan.files, ...boot.files],
    links: [...plan.links, ...boot.links],
    copies: [...(plan.copies ?? []), ...boot.copies, ...guestCopies(ctx.spec)],
  };
}
