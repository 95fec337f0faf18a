import type { Severity } from '../diagnostics.js';
import type { Catalogs, OsEntry } from '../catalog/schema.js';
import type { planVmLayout } from '../disks/layout.js';
import type { VmConfig } from '../config/model.js';
import type { PlaceIndex } from '../config/normalize.js';
import type { PlaceAt } from '../config/diagnose.js';

/**
 * What a semantic check reads, and where it reports: checks that need more than one field, or the
 * OS, what zod's per-field codecs cannot see. Its own file so that checks kept in other files
 * (services.ts) and the list that runs them (semantic.ts) import no cycle.
 */
export interface SemanticContext {
  config: VmConfig;
  os: OsEntry;
  catalogs: Catalogs;
  places: PlaceIndex;
  /** False for container targets, which have no disks, CD drives or controllers to check. */
  hardware: boolean;
  /** The VM layout the disk builder and the VM targets work from, planned once for every check. */
  plan: () => ReturnType<typeof planVmLayout>;
  report: (path: readonly (string | number)[], severity: Severity, code: string, message: string, hint?: string, at?: PlaceAt) => void;
}
