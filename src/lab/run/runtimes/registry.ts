import type { LabManifest } from '../../manifest.js';
import { lxcLabRuntime } from './containers.js';
import { ociLabRuntime } from './oci.js';
import type { LabRuntime } from './types.js';
import { qemuLabRuntime } from './vms.js';

/** The ways `lab up` can run a built lab, one row each, tried in order against the manifest. */
export const LAB_RUNTIMES: readonly LabRuntime[] = [lxcLabRuntime, qemuLabRuntime, ociLabRuntime];

export function runtimeForManifest(manifest: LabManifest): LabRuntime | undefined {
  return LAB_RUNTIMES.find((r) => r.matches(manifest));
}

export function runtimeById(id: string): LabRuntime | undefined {
  return LAB_RUNTIMES.find((r) => r.id === id);
}
