import { VmgenError } from '../../errors.js';
import type { Lab } from '../../lab/types.js';
import type { StepEvent } from '../../steps/run-steps.js';

/*
 * The three functions of src/lab the service calls, in one place. loadLab is lab-core's;
 * buildLabMember and assembleLab are INTERIM until lab-build is merged, when they become re-exports.
 */
/** What the lab file's own diagnostics call it; a machine's carry its config's path beside it. */
export const LAB_FILE = 'lab.conf';

export { loadLab } from '../../lab/load.js';

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
