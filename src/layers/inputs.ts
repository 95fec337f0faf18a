import type { ResolvedSpec } from '../config/resolve.js';
import { VmgenError } from '../errors.js';
import type { Configurator, GuestContext, GuestFile, GuestPlan, LayerPlan, VmKernel } from '../families/types.js';
import { filesystemPackages, type VmLayout } from '../disks/layout.js';

/** What a guest's packages layer is made from, beyond its OS and mirror. */
export interface LayerInputs {
  /** The OS family's own packages, a VM's kernel and the file systems' tools: the base layer. */
  basePackages: string[];
  appPackages: string[];
  setupFiles: GuestFile[];
  /** Work done once in the packages layer (locales; a VM kernel's /boot), what keys it, and what it writes when known. */
  prepare?: LayerPlan;
}

function joinPlans(a: GuestPlan, b: GuestPlan): GuestPlan {
  return { files: [...a.files, ...b.files], links: [...a.links, ...b.links], commands: [...a.commands, ...b.commands] };
}

/**
 * One place for build, render and bench to agree on: a VM adds its family's kernel (the family
 * row's `root.vmKernel`), its initramfs settings and the file systems' tools to what the
 * configurator and the apps need.
 */
export function layerInputs(configurator: Configurator, familyVmKernel: VmKernel | undefined, guest: GuestContext, layout: VmLayout | undefined): LayerInputs {
  const spec: ResolvedSpec = guest.spec;
  const vmKernel = layout === undefined ? undefined : familyVmKernel;
  if (layout !== undefined && vmKernel === undefined) {
    throw new VmgenError('VMG_UNSUPPORTED', `VM targets cannot build ${spec.os.label} guests from a root file system`, { hint: 'build this guest for a container target (vmgen build --help lists the targets)' });
  }
  const layer = configurator.layerPlan?.(guest);
  const finish = vmKernel?.finish;
  // A finish step joins the key only when there is one, so the layers of families without it keep
  // theirs; what it writes is not declared, so the joined plan declares nothing.
  const prepare: LayerPlan | undefined = finish === undefined
    ? layer
    : { key: { ...(layer === undefined ? {} : { layer: layer.key }), vmKernel: finish }, plan: layer === undefined ? finish : joinPlans(layer.plan, finish) };
  return {
    basePackages: [...new Set([...configurator.packages(guest), ...(vmKernel?.packages ?? []), ...(layout ? filesystemPackages(layout) : [])])],
    appPackages: spec.appPackages,
    setupFiles: vmKernel?.setupFiles ?? [],
    ...(prepare === undefined ? {} : { prepare }),
  };
}

/** Every package the layer holds, as `vmgen render` lists them and dnf or apt is asked for them. */
export function layerPackages(inputs: LayerInputs): string[] {
  return [...new Set([...inputs.basePackages, ...inputs.appPackages])].sort();
}
