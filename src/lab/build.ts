import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { assembleLab, type AssembleOptions } from './assemble.js';
import { buildLabMember, labDirOf, type LabBuildOptions } from './build-member.js';
import { passwordKey, plainPasswords, withPasswordHashes } from './shared-hashes.js';
import type { Lab } from './types.js';
import type { VmConfig } from '../config/model.js';

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
 * `vmgen lab build`: every machine as a member, a few at once (an account's password is hashed
 * once, by the first machine that has it: shared-hashes.ts; machines sharing a package set reuse
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
    // The first machine with an account's password hashes it; the others wait for that hash.
    const hashOf = new Map<string, Promise<string | undefined>>();
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < lab.machines.length) {
        const i = next++;
        const machine = lab.machines[i]!;
        // Every key is claimed or looked up before any wait, so a machine only ever waits for one
        // that started before it: no two machines can wait for each other.
        const led = new Map<string, { account: string; settle(hash: string | undefined): void }>();
        const waits: Array<Promise<[string, string | undefined]>> = [];
        for (const [account, plain] of plainPasswords(machine.config)) {
          const key = passwordKey(account, plain);
          const leader = hashOf.get(key);
          if (leader === undefined) hashOf.set(key, new Promise((settle) => led.set(key, { account, settle })));
          else waits.push(leader.then((hash) => [account, hash]));
        }
        const shared: Record<string, string> = {};
        for (const [account, hash] of await Promise.all(waits)) if (hash !== undefined) shared[account] = hash;
        const settleAll = (hashes: Record<string, string>): void => {
          for (const { account, settle } of led.values()) settle(hashes[account]);
        };
        if (failed) {
          settleAll({});
          break;
        }
        const member = Object.keys(shared).length === 0 ? lab : withMachineConfig(lab, machine.name, withPasswordHashes(machine.config, shared));
        opts.onMachine?.(machine.name, 'start', i, lab.machines.length);
        try {
          const built = await buildLabMember(member, machine.name, target, scratch, memberOpts(machine.name));
          files[i] = built.file;
          settleAll(built.passwordHashes);
        } catch (err) {
          failed = true;
          // Machines waiting for these hashes stop too (failed), or would hash their plain passwords.
          settleAll({});
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

function withMachineConfig(lab: Lab, name: string, config: VmConfig): Lab {
  return { ...lab, machines: lab.machines.map((m) => (m.name === name ? { ...m, config } : m)) };
}
