import { resolve } from 'node:path';
import type { Command } from 'commander';
import { labDown, labUp, openRunningLab } from '../../lab/run/up.js';
import { formatLabTable } from '../../lab/verify/table.js';
import { verifyRunningLab } from '../../lab/verify/verify.js';
import type { CliIo } from '../io.js';
import { catalogsFor, collect } from '../shared.js';
import type { RegisterLabCommand } from './types.js';

/** An abort signal that SIGINT and SIGTERM fire while `body` runs: up and down then undo what they made. */
async function interruptible<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const STATE_DIR_HELP = 'where the lab is unpacked and its run record kept (default /var/lib/vmgen/labs/NAME)';

function stateDirOf(io: CliIo, flag: string | undefined): { stateDir?: string } {
  return flag === undefined ? {} : { stateDir: resolve(io.cwd, flag) };
}

const log = (io: CliIo) => (line: string): void => void io.stderr.write(`${line}\n`);

function registerUp(lab: Command, io: CliIo): void {
  lab.command('up')
    .description('start a built lab in a network namespace of its own: one bridge per network, routers and DNS/DHCP servers first')
    .argument('<archive>', 'the archive vmgen lab build made')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect)
    .action(async (archive: string, flags: { stateDir?: string; catalog?: string[] }) => {
      const r = await interruptible((signal) => labUp({ archive: resolve(io.cwd, archive), ...stateDirOf(io, flags.stateDir), catalogs: catalogsFor(io, flags.catalog), signal, log: log(io) }));
      io.stdout.write(r.alreadyUp
        ? `${r.lab} is already up (namespace ${r.netns}, ${r.machines.length} machines)\n`
        : `${r.lab} is up: ${r.machines.length} machines with ${r.runtime} in namespace ${r.netns}; state in ${r.stateDir}\n`);
    });
}

function registerVerify(lab: Command, io: CliIo, setExit: (code: number) => void): void {
  lab.command('verify')
    .description("check a lab that is up: each machine's own checks, and reachability, routing, DHCP, DNS and ports as the lab file describes them")
    .argument('<archive>', 'the archive the lab was brought up from')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect)
    .option('--json', 'print {lab, runtime, results, ok, total, failed, skipped} as JSON on stdout')
    .action(async (archive: string, flags: { stateDir?: string; catalog?: string[]; json?: boolean }) => {
      const { ctx, rt } = await openRunningLab({ archive: resolve(io.cwd, archive), ...stateDirOf(io, flags.stateDir), catalogs: catalogsFor(io, flags.catalog), log: log(io) });
      const report = await interruptible((signal) => verifyRunningLab(ctx, rt, signal));
      io.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatLabTable(report.results));
      if (!report.ok) setExit(1);
    });
}

function registerDown(lab: Command, io: CliIo): void {
  lab.command('down')
    .description('stop every machine of a lab and remove its namespace, bridges, containers, images and state directory')
    .argument('<archive>', 'the archive the lab was brought up from')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .action(async (archive: string, flags: { stateDir?: string }) => {
      const r = await interruptible((signal) => labDown({ archive: resolve(io.cwd, archive), ...stateDirOf(io, flags.stateDir), signal, log: log(io) }));
      io.stdout.write(r.wasUp ? `${r.lab} is down; ${r.stateDir} removed\n` : `${r.lab} is not up (no record in ${r.stateDir})\n`);
    });
}

export const registerLabRun: RegisterLabCommand = (lab, io, setExit) => {
  registerUp(lab, io);
  registerVerify(lab, io, setExit);
  registerDown(lab, io);
};
