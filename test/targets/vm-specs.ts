import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { resolveSpec, type ResolvedSpec } from '../../src/config/resolve.js';
import { resolveVmLayout, type VmLayout } from '../../src/disks/layout.js';

/**
 * The machines the VM generators are golden-tested on: the README's sample machine (UEFI, one disk
 * on PVSCSI, one NIC) and test/fixtures/vm/devices.conf (BIOS, disks on LSI Logic and NVMe, CD
 * drives on IDE and SATA, a bridged and an unplugged host-only NIC).
 */
const catalogs = loadCatalogs({ env: {} });

const FILES = {
  web: '../../examples/debian-web.conf',
  devices: '../fixtures/vm/devices.conf',
} as const;

export type VmCaseName = keyof typeof FILES;
export const VM_CASE_NAMES = Object.keys(FILES) as VmCaseName[];

export interface VmCase {
  spec: ResolvedSpec;
  layout: VmLayout;
}

export function vmCase(name: VmCaseName, target: string): VmCase {
  return vmCaseFromFile(FILES[name], target);
}

/** A machine from a config file relative to this folder, for cases only one target is golden-tested on. */
export function vmCaseFromFile(file: string, target: string): VmCase {
  const text = readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8');
  const loaded = loadConfig(text, { catalogs });
  if (loaded.config === undefined) throw new Error(`${file} does not load: ${JSON.stringify(loaded.diagnostics)}`);
  const spec = resolveSpec(loaded.config, catalogs, { target, defaultMirror: 'http://mirror.example/debian' });
  return { spec, layout: resolveVmLayout(loaded.config, spec.os, spec.name) };
}

/** A disk file name per layout disk, as the packagers name them: NAME-hddN.EXT. */
export function diskFiles(layout: VmLayout, ext: string, dir = ''): Record<string, string> {
  return Object.fromEntries(layout.disks.map((d) => [d.name, `${dir}${d.file}.${ext}`]));
}
