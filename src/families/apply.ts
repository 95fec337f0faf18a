import type { Communicator } from '../communicators/types.js';
import { CommandError } from '../exec/run.js';
import { VmgenError } from '../errors.js';
import type { GuestPlan } from './types.js';

export interface ApplyOptions {
  signal?: AbortSignal;
  log?(line: string): void;
}

/**
 * Applies a configurator's plan through a communicator: files, then links, then commands in
 * order. Whatever the target, this is the only code that changes a guest.
 */
export async function applyPlan(comm: Communicator, plan: GuestPlan, opts: ApplyOptions = {}): Promise<void> {
  for (const file of plan.files) await comm.writeFile(file.path, file.content, file.mode ?? 0o644);
  for (const link of plan.links) await comm.symlink(link.target, link.path);
  for (const cmd of plan.commands) {
    if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error('cancelled');
    opts.log?.(`${cmd.why}: ${cmd.argv.join(' ')}`);
    try {
      await comm.exec(cmd.argv, { ...(cmd.input === undefined ? {} : { input: cmd.input }), ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (err) {
      if (opts.signal?.aborted || !(err instanceof CommandError)) throw err;
      throw new VmgenError('VMG_BUILD', `in the guest, ${cmd.why} failed: ${cmd.argv.join(' ')}: ${err.stderr.trim().split('\n').slice(-2).join(' | ')}`, { cause: err });
    }
  }
}
