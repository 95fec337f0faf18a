import type { ControllerBusName } from '../catalog/controllers.js';
import { orList, type Severity } from '../diagnostics.js';
import { kernelOf } from '../catalog/families.js';
import type { OsEntry } from '../catalog/schema.js';
import type { VmConfig } from '../config/model.js';
import { isVmwareStaticMac } from '../config/validators.js';
import { machineNameOf, resolveNics } from '../config/resolve.js';
import { deviceSlots, planVmLayout, type Controller, type VmLayout } from '../disks/layout.js';
import { SAFE_NAME, SAFE_NAME_HINT } from './names.js';
import type { ArchiveFormat } from '../archive/formats.js';

export type TargetKind = 'container' | 'vm';

/** The other targets, for hints that name them (limits sit below the registry, which imports them). */
export interface TargetDirectory {
  idsOf(kind: TargetKind): readonly string[];
}

export type Report = (path: readonly (string | number)[], severity: Severity, code: string, message: string, hint?: string) => void;

/**
 * What a target can hold, checked by `vmgen validate --target`. Each target file (later, its
 * commander) owns its limits; these are the shared shapes of them.
 */
export interface TargetLimits {
  id: string;
  kind: TargetKind;
  label: string;
  check(config: VmConfig, os: OsEntry, report: Report, targets: TargetDirectory): void;
  /** What an archive format asks of the machine beyond the target's own limits (a Vagrant box: sshd, DHCP). */
  formatChecks?: Partial<Record<ArchiveFormat, FormatCheck>>;
  /** Where a MAC vmgen makes up (a lab's NICs) must lie for the target to keep it; without, QEMU's 52:54:00 prefix. */
  staticMacs?: MacRange;
}

export type FormatCheck = (config: VmConfig, os: OsEntry, report: Report) => void;

/** MAC addresses from prefix:00:00:00 to prefix:fourthMax:ff:ff. */
export interface MacRange {
  prefix: readonly [number, number, number];
  fourthMax: number;
}

/** Whether a kind of target can run an OS at all: a container shares the host's Linux kernel. */
export function kindRunsOs(kind: TargetKind, os: OsEntry): boolean {
  return kind === 'vm' || kernelOf(os) === 'linux';
}

/** Containers share the host's kernel: no disks, CD drives or firmware, and no Windows. */
export function containerLimits(config: VmConfig, os: OsEntry, report: Report, label: string, targets: TargetDirectory): void {
  if (!kindRunsOs('container', os)) {
    report(['hardware', 'os'], 'error', 'CFG_TARGET_OS', `${label} containers run Linux only; ${os.id} needs a VM target`, `use --target ${orList(targets.idsOf('vm'))}`);
  }
  for (const key of ['hdds', 'cd_drives'] as const) {
    if (Object.keys(config.hardware[key]).length > 0) {
      report(['hardware', key], 'warning', 'CFG_TARGET_IGNORED', `containers have no ${key === 'hdds' ? 'disks' : 'CD drives'}: [${key}] is ignored for ${label}`,
        key === 'hdds' ? 'the largest disk size becomes the container disk quota where the target has one' : undefined);
    }
  }
  if (config.hardware.firmware !== undefined) report(['hardware', 'firmware'], 'warning', 'CFG_TARGET_IGNORED', `firmware is ignored for ${label} containers`);
}

export function vmwareMacLimits(config: VmConfig, report: Report): void {
  for (const [name, eth] of Object.entries(config.hardware.eths)) {
    if (eth.hw_addr === undefined) continue;
    const r = isVmwareStaticMac(eth.hw_addr);
    if (!r.ok) report(['hardware', 'eths', name, 'hw_addr'], 'error', 'CFG_VMWARE_MAC', r.message, r.hint);
  }
}

/** A target that names things after the machine and takes fewer characters than vm_id allows. */
export function machineNameLimits(config: VmConfig, report: Report, label: string, accepts: (name: string) => boolean, what: string): void {
  const name = machineNameOf(config);
  if (accepts(name)) return;
  const at = config.hardware.vm_id !== undefined ? ['hardware', 'vm_id'] : ['config', 'hostname'];
  report(at, 'error', 'CFG_TARGET_NAME', `${label} cannot use ${JSON.stringify(name)} as ${what}`, SAFE_NAME_HINT);
}

/** What a VM target's description format can hold beyond what every VM target can. */
export interface VmTargetRules {
  label: string;
  /** NICs the target's VMs have at most: the renderer's own constant. */
  maxNics?: number;
  /** The highest unit a controller of this model takes, when the target's model has fewer than the layout allows. */
  unitLimit?: (bus: ControllerBusName, model: Controller, os: OsEntry, firmware: VmLayout['firmware']) => { max: number; model: string } | undefined;
  /** Kinds of controller the target has one of only (VirtualBox's OVF import). */
  singleController?: readonly ControllerBusName[];
}

/** Name, NIC count and controllers, checked on the same layout the target renders. */
export function vmLimits(config: VmConfig, os: OsEntry, report: Report, rules: VmTargetRules): void {
  machineNameLimits(config, report, rules.label, (n) => SAFE_NAME.test(n), 'the name of its files');
  const nics = resolveNics(config);
  if (rules.maxNics !== undefined && nics.length > rules.maxNics) {
    const extra = nics[rules.maxNics]!.name;
    const section = config.hardware.eths[extra] !== undefined ? 'hardware' : 'network';
    report([section, 'eths', extra], 'error', 'CFG_TOO_MANY_NICS', `${rules.label} gives a VM at most ${rules.maxNics} NICs; this machine has ${nics.length}`,
      `remove ${nics.length - rules.maxNics} of them`);
  }
  const { layout } = planVmLayout(config, os, machineNameOf(config));
  const models = new Map<string, Controller>();
  for (const slot of deviceSlots(layout)) {
    const key = `${slot.bus}${slot.index}`;
    // Disks choose a controller's model; a controller holding CD drives only takes theirs.
    if (!models.has(key) || slot.kind === 'hdds') models.set(key, models.get(key) ?? slot.controller);
  }
  for (const slot of deviceSlots(layout)) {
    const key = `${slot.bus}${slot.index}`;
    const at = ['hardware', slot.kind, slot.name];
    const where = config.hardware[slot.kind][slot.name]?.pos !== undefined ? [...at, 'pos'] : at;
    if (rules.singleController?.includes(slot.bus) && slot.index > 0) {
      report(where, 'error', 'CFG_TARGET_CONTROLLER', `[${slot.name}] would be on ${key}, but ${rules.label} has one ${slot.bus.toUpperCase()} controller`,
        `put it on ${slot.bus}0, or on another controller type`);
    }
    const limit = rules.unitLimit?.(slot.bus, models.get(key) ?? slot.controller, os, layout.firmware);
    if (limit !== undefined && slot.unit > limit.max) {
      report(where, 'error', 'CFG_TARGET_UNIT', `[${slot.name}] would be ${key}:${slot.unit}, but ${rules.label}'s ${limit.model} controller has units 0 to ${limit.max} only`,
        'give it a lower unit, or another controller');
    }
  }
}
