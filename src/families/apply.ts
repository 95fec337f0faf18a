import { posix } from 'node:path';
import { batchFailure } from '../communicators/batch.js';
import type { Communicator } from '../communicators/types.js';
import { walkSource, type ConfigSources } from '../config/sources.js';
import { CommandError } from '../exec/run.js';
import { VmgenError } from '../errors.js';
import { copyEntries, copyFinishCommands } from './linux/copies.js';
import { enableOffline } from './linux/enable-offline.js';
import type { GuestCommand, GuestCopy, GuestPlan } from './types.js';

export interface ApplyOptions {
  signal?: AbortSignal;
  log?(line: string): void;
  /** The files beside the config, which the plan's copies read. */
  sources?: ConfigSources;
}

/**
 * Applies a configurator's plan through a communicator: files, then links, then the config's
 * copies, then commands in order, and last the copies' modes and owners. Whatever the target, this
 * is the only code that changes a guest.
 */
export async function applyPlan(comm: Communicator, plan: GuestPlan, opts: ApplyOptions = {}): Promise<void> {
  for (const file of plan.files) await comm.writeFile(file.path, file.content, file.mode ?? 0o644);
  for (const link of plan.links) await comm.symlink(link.target, link.path);
  const finish: GuestCommand[] = [];
  for (const copy of plan.copies ?? []) finish.push(...await writeCopy(comm, copy, opts));
  // A command the applier can carry out by writing files ends the batch before it, so every
  // command still sees what the ones before it did.
  let pending: GuestCommand[] = [];
  for (const cmd of [...plan.commands, ...finish]) {
    if (cmd.offline === undefined || comm.readLink === undefined) {
      pending.push(cmd);
      continue;
    }
    await runCommands(comm, pending, opts);
    pending = [];
    const done = await enableOffline({ readFile: (p) => comm.readFile(p), readLink: (p) => comm.readLink!(p), symlink: (t, p) => comm.symlink(t, p) }, cmd.offline);
    const made = done.links.length === 0 ? 'no link to make' : `linked ${done.links.map((l) => posix.basename(l.path)).join(' ')}`;
    opts.log?.(`${cmd.why}: ${made} (the links systemctl enable makes)${done.already.length > 0 ? `; already enabled: ${done.already.join(' ')}` : ''}`);
    if (done.leftover.length > 0) {
      for (const l of done.leftover) opts.log?.(`  ${l.unit}: left to systemctl (${l.why})`);
      pending.push({ argv: ['systemctl', 'enable', ...done.leftover.map((l) => l.unit)], why: cmd.why });
    }
  }
  await runCommands(comm, pending, opts);
}

async function runCommands(comm: Communicator, commands: readonly GuestCommand[], opts: ApplyOptions): Promise<void> {
  for (const group of commandGroups(commands, comm.execAll !== undefined)) {
    if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error('cancelled');
    for (const cmd of group) opts.log?.(`${cmd.why}: ${cmd.argv.join(' ')}`);
    const signal = opts.signal ? { signal: opts.signal } : {};
    try {
      const [only] = group;
      if (group.length === 1 && only) await comm.exec(only.argv, { ...(only.input === undefined ? {} : { input: only.input }), ...signal });
      else await comm.execAll!(group.map((c) => c.argv), signal);
    } catch (err) {
      if (opts.signal?.aborted || !(err instanceof CommandError)) throw err;
      const failure = group.length > 1 ? batchFailure(err.stderr) : undefined;
      const cmd = group[failure?.index ?? 0]!;
      const stderr = failure?.stderr ?? err.stderr;
      throw new VmgenError('VMG_BUILD', `in the guest, ${cmd.why} failed: ${cmd.argv.join(' ')}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`, { cause: err });
    }
  }
}

/**
 * Consecutive commands that read nothing on stdin run as one batch where the communicator can;
 * one with input (a password for chpasswd) runs on its own, so a secret never shares a process's
 * stdin with another command nor appears in an argv.
 */
export function commandGroups(commands: readonly GuestCommand[], batching: boolean): GuestCommand[][] {
  if (!batching) return commands.map((c) => [c]);
  const groups: GuestCommand[][] = [];
  for (const cmd of commands) {
    const last = groups.at(-1);
    if (cmd.input === undefined && last !== undefined && last[0]!.input === undefined) last.push(cmd);
    else groups.push([cmd]);
  }
  return groups;
}

/**
 * Writes one copy's files (as root; their owner is set later) and returns the commands that finish
 * it. The communicator resolves every path inside the guest's root, so a link in the guest cannot
 * lead a write out of it; the sources refuse links on the host side.
 */
async function writeCopy(comm: Communicator, copy: GuestCopy, opts: ApplyOptions): Promise<GuestCommand[]> {
  if (copy.from.kind === 'inline') {
    await comm.writeFile(copy.path, copy.from.content, copy.mode);
    return copyFinishCommands(copy, copyEntries(copy));
  }
  const { source } = copy.from;
  const tree = opts.sources === undefined ? undefined : walkSource(opts.sources, source);
  if (tree === undefined || tree.refused) {
    throw new VmgenError('VMG_BUILD', `${copy.label}: '${source}' is ${tree?.refused ? `no longer a plain file or directory (${posix.join(source, tree.refused.rel)})` : 'not beside the config'}`,
      { hint: 'the files beside the config changed after it was validated' });
  }
  const entries = copyEntries(copy, tree);
  opts.log?.(`${copy.label}: ${tree.files.length} file${tree.files.length === 1 ? '' : 's'} from ${source} into ${copy.path}`);
  for (const e of entries) {
    if (e.kind !== 'file') continue;
    await comm.writeFile(e.path, opts.sources!.readFile(e.rel === '' ? source : posix.join(source, e.rel!)), copy.mode);
  }
  return copyFinishCommands(copy, entries);
}
