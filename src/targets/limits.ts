import type { OsEntry } from '../catalog/schema.js';
import type { VmConfig } from '../config/model.js';
import type { Severity } from '../diagnostics.js';
import { isVmwareStaticMac } from '../config/validators.js';

export type Report = (path: readonly (string | number)[], severity: Severity, code: string, message: string, hint?: string) => void;

/**
 * What a target can hold, checked by `vmgen validate --target`. Each target file (later, its
 * commander) owns its limits; these are the shared shapes of them.
 */
export interface TargetLimits {
  id: string;
  kind: 'container' | 'vm';
  label: string;
  check(config: VmConfig, os: OsEntry, report: Report): void;
}

/** Containers share the host's kernel: no disks, CD drives or firmware, and no Windows. */
export function containerLimits(config: VmConfig, os: OsEntry, report: Report, label: string): void {
  if (os.family === 'windows') {
    report(['hardware', 'os'], 'error', 'CFG_TARGET_OS', `${label} containers run Linux only; ${os.id} needs a VM target`, 'use --target vmware, qemu or virtualbox');
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
