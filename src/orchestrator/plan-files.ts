import { join } from 'node:path';
import { renderCommands } from '../families/render-commands.js';
import { describeCopies } from '../families/linux/copies.js';
import type { GuestContext } from '../families/types.js';
import { layerPackages } from '../layers/inputs.js';
import { renderLinuxVmFstab } from '../targets/vm/common.js';
import type { BuildPlan } from './plan.js';

/*
 * A build plan as files a person reviews (`vmgen render`): the target's configuration under
 * target/, what goes into the guest under guest/, the guest commands, the package list, and the
 * steps with the host tools each runs (plan.json). Pure:
 * the caller writes them. Paths are relative to the review directory; a later file of the same
 * path replaces an earlier one, as the later layer does in a build.
 */
export function planFiles(plan: BuildPlan): Map<string, string> {
  const files = new Map<string, string>();
  for (const f of plan.reviewFiles()) files.set(f.path, f.content);
  for (const f of plan.targetRender.archiveFiles) files.set(join('target', f.path), f.content);
  const root = plan.root.kind === 'layer' ? plan.root : undefined;
  // A VM made from a layer is a Linux guest, whose disks the build lists in its fstab.
  if (root && plan.layout) files.set(join('target', 'partitions', 'fstab'), renderLinuxVmFstab(plan.layout));
  const guest: GuestContext = root?.guest ?? { spec: plan.spec, nicOwner: plan.target.commander.nicOwner };
  const guestPlan = root?.guestPlan ?? plan.family.configurator.plan(guest);
  const layer = root?.inputs.prepare;
  for (const f of [...(root?.inputs.setupFiles ?? []), ...(layer?.plan.files ?? []), ...guestPlan.files, ...plan.targetRender.guestFiles]) {
    files.set(join('guest', f.path), f.review ?? f.content);
  }
  // A source's content is the user's own file; the listing names it. An inline text is shown whole.
  const copies = guestPlan.copies ?? [];
  for (const c of copies) if (c.from.kind === 'inline') files.set(join('guest', c.path), c.from.content);
  if (copies.length > 0) files.set('guest-copies.txt', describeCopies(copies));
  files.set('guest-commands.txt', renderCommands([...(layer?.plan.commands ?? []), ...guestPlan.commands], [...(layer?.plan.links ?? []), ...guestPlan.links]));
  const packages = root ? layerPackages(root.inputs) : [...new Set([...plan.family.configurator.packages(guest), ...plan.spec.appPackages])].sort();
  files.set('packages.txt', `${packages.join('\n')}\n`);
  files.set('plan.json', `${JSON.stringify(planSummary(plan), null, 2)}\n`);
  return files;
}

export interface PlanSummary {
  steps: Array<{ name: string; tools: readonly string[]; skipped: boolean }>;
  /** Every host tool the steps that run need: what `check host tools` looks for. */
  tools: readonly string[];
  needsRoot: boolean;
}

export function planSummary(plan: BuildPlan): PlanSummary {
  return {
    steps: plan.steps.map((s) => ({ name: s.name, tools: s.tools, skipped: s.skipped })),
    tools: plan.tools,
    needsRoot: plan.needsRoot,
  };
}
