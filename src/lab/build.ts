import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { assembleLab, type AssembleOptions } from './assemble.js';
import { buildLabMember, labDirOf, type LabBuildOptions } from './build-member.js';
import type { Lab } from './types.js';

export interface BuildLabOptions extends LabBuildOptions {
  inputs?: AssembleOptions['inputs'];
  /** Called before and after each machine: the CLI's progress per machine. */
  onMachine?(name: string, state: 'start' | 'done', index: number, total: number): void;
  /** Machines built at once (default: twice the cores, at most 4); with more than one, onEvent is not passed on. */
  parallel?: number;
}

/**
 * A member's build is mostly many short guest commands (useradd, chpasswd, ssh-keygen) and small
 * writes into its overlay: waits more than work, so a few at once keep two cores busy.
 */
export const DEFAULT_LAB_PARALLEL = Math.min(4, 2 * availableParallelism());

/**
 * `vmgen lab build`: every machine as a member, a few at once (machines sharing a package set reuse
 * one layer and disk set from the cache; the cache's lock makes the others wait while the first
 * one makes it), then the lab's archive. Members stay
 * in a scratch directory beside the archive and are removed with it.
 */
export async function buildLab(lab: Lab, target: string, outDir: string, opts: BuildLabOptions): Promise<string> {
  const labDir = labDirOf(lab, opts);
  await mkdir(outDir, { recursive: true });
  const scratch = await mkdtemp(join(outDir, `.${lab.name}.members.`));
  try {
    const parallel = Math.max(1, Math.min(opts.parallel ?? DEFAULT_LAB_PARALLEL, lab.machines.length));
    // Interleaved step events of several builds would garble one step display: with several at
    // once, each machine's log lines carry its name instead.
    const { onEvent, log, ...rest } = opts;
    const memberOpts = (name: string): LabBuildOptions => ({
      ...rest, labDir,
      ...(parallel === 1 && onEvent ? { onEvent } : {}),
      ...(log ? { log: parallel === 1 ? log : (line: string) => log(`${name}: ${line}`) } : {}),
    });
    const files: string[] = new Array<string>(lab.machines.length);
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < lab.machines.length) {
        const i = next++;
        const machine = lab.machines[i]!;
        opts.onMachine?.(machine.name, 'start', i, lab.machines.length);
        try {
          files[i] = (await buildLabMember(lab, machine.name, target, scratch, memberOpts(machine.name))).file;
        } catch (err) {
          failed = true;
          throw err;
        }
        opts.onMachine?.(machine.name, 'done', i, lab.machines.length);
      }
    };
    // Every worker is awaited before the scratch directory goes, even when one has failed.
    const results = await Promise.allSettled(Array.from({ length: parallel }, worker));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    return await assembleLab(lab, target, files, outDir, {
      labDir, ...(opts.inputs ? { inputs: opts.inputs } : {}), ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
