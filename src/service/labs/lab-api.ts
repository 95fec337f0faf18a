import type { Catalogs } from '../../catalog/schema.js';
import type { ConfigSources } from '../../config/sources.js';
import { VmgenError } from '../../errors.js';
import type { Lab, LabLoadResult } from '../../lab/types.js';
import type { StepEvent } from '../../steps/run-steps.js';
import type { TargetLimits } from '../../targets/limits.js';

/*
 * INTERIM (until lab-core and lab-build are merged): the three functions of src/lab the service
 * calls, in one place, so the merge replaces this file by re-exports and nothing else.
 */
/** What the lab file's own diagnostics call it; a machine's carry its config's path beside it. */
export const LAB_FILE = 'lab.conf';

export function loadLab(_text: string, _opts: { sources: ConfigSources; catalogs: Catalogs; target?: TargetLimits; file?: string }): LabLoadResult {
  throw new VmgenError('VMG_INTERNAL', 'loadLab is not merged yet');
}

export interface LabMemberOptions {
  outDir: string;
  cacheRoot: string;
  signal?: AbortSignal;
  onEvent?(e: StepEvent): void;
  log?(line: string): void;
}

/** One machine of the lab built as the lab's archive takes it: a member output file in outDir. */
export async function buildLabMember(_lab: Lab, _machine: string, _target: string, _opts: LabMemberOptions): Promise<{ file: string }> {
  throw new VmgenError('VMG_INTERNAL', 'buildLabMember is not merged yet');
}

/** The lab's archive in outDir, from every machine's member output. */
export async function assembleLab(_lab: Lab, _target: string, _members: ReadonlyArray<{ machine: string; file: string }>, _outDir: string,
  _opts: Omit<LabMemberOptions, 'outDir'>): Promise<{ archive: string }> {
  throw new VmgenError('VMG_INTERNAL', 'assembleLab is not merged yet');
}
