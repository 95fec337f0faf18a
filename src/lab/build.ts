import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { assembleLab, type AssembleOptions } from './assemble.js';
import { buildLabMember, labDirOf, type LabBuildOptions } from './build-member.js';
import type { Lab } from './types.js';

export interface BuildLabOptions extends LabBuildOptions {
  inputs?: AssembleOptions['inputs'];
  /** Called before and after each machine: the CLI's progress per machine. */
  onMachine?(name: string, state: 'start' | 'done', index: number, total: number): void;
}

/**
 * `vmgen lab build`: every machine as a member, one after the other (machines sharing a package set
 * reuse the first one's layer and disk set from the cache), then the lab's archive. Members stay
 * in a scratch directory beside the archive and are removed with it.
 */
export async function buildLab(lab: Lab, target: string, outDir: string, opts: BuildLabOptions): Promise<string> {
  const labDir = labDirOf(lab, opts);
  await mkdir(outDir, { recursive: true });
  const scratch = await mkdtemp(join(outDir, `.${lab.name}.members.`));
  try {
    const files: string[] = [];
    for (const [i, machine] of lab.machines.entries()) {
      opts.onMachine?.(machine.name, 'start', i, lab.machines.length);
      files.push((await buildLabMember(lab, machine.name, target, scratch, { ...opts, labDir })).file);
      opts.onMachine?.(machine.name, 'done', i, lab.machines.length);
    }
    return await assembleLab(lab, target, files, outDir, {
      labDir, ...(opts.inputs ? { inputs: opts.inputs } : {}), ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
