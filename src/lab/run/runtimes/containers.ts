import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LxcAttachCommunicator } from '../../../communicators/lxc-attach.js';
import { CommandCommunicator } from '../../../communicators/command.js';
import { run } from '../../../exec/run.js';
import { VmgenError } from '../../../errors.js';
import { waitForBoot } from '../../../verify/runtimes/wait.js';
import type { LabManifest } from '../../manifest.js';
import type { MachineAccess } from '../../verify/run.js';
import { inNetnsArgv, netOnlyArgv } from '../netns.js';
import type { LabRunContext, LabRuntime } from './types.js';

/*
 * System containers under LXC: each machine's directory in the unpacked lab is its container
 * (config, fstab; the root is LXC's own overlay of the shared base and the machine's delta), with
 * LABDIR/machines as the lxcpath. lxc-start runs inside the lab's namespace, so the veth pairs it
 * makes are there and their host ends join the lab's bridges there.
 */

const ROLE_CONFIG = 'config';
const ROLE_DELTA = 'delta';

function lxcPathOf(ctx: LabRunContext): string {
  return join(ctx.labDir, 'machines');
}

/** lxc-attach inside the lab's namespace: LXC's command socket is abstract, so per network namespace. */
class LabLxcCommunicator extends CommandCommunicator {
  readonly description: string;

  constructor(private readonly name: string, private readonly lxcpath: string, private readonly nsPath: string) {
    super();
    this.description = `lxc-attach ${name} in ${nsPath}`;
  }

  protected hostArgv(argv: readonly string[]): [string, ...string[]] {
    return netOnlyArgv(this.nsPath, LxcAttachCommunicator.argv(this.name, this.lxcpath, argv));
  }
}

/**
 * The configs name the directory the builder expected the lab in (manifest.lxcPath); a lab
 * unpacked elsewhere (--state-dir) gets its paths moved. Only whole path prefixes are replaced.
 */
export function relocateLxcConfig(text: string, from: string | undefined, to: string): string {
  if (from === undefined || from === to) return text;
  const prefix = from.endsWith('/') ? from : `${from}/`;
  return text.split('\n').map((line) => {
    const m = /^(\s*lxc\.(?:rootfs\.path|mount\.fstab)\s*=\s*)(.*)$/.exec(line);
    if (!m) return line;
    return m[1]! + m[2]!.split(':').map((part) => (part.startsWith(prefix) ? `${to}/${part.slice(prefix.length)}` : part)).join(':');
  }).join('\n');
}

/** The PID of the container's init as seen from the host, for entering its network stack. */
async function initPid(ctx: LabRunContext, name: string): Promise<number> {
  const r = await run(netOnlyArgv(ctx.netnsPath, ['lxc-info', '-n', name, '-P', lxcPathOf(ctx), '-p', '-H']));
  const pid = Number(r.stdout.trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new VmgenError('VMG_LAB_RUN', `${name} is not running (lxc-info: ${r.stdout.trim() || 'no PID'})`);
  return pid;
}

/** ICMP from the machine's own network stack with the host's ping: the guests have none. */
export function pingFrom(pidOf: () => Promise<number>): NonNullable<MachineAccess['ping']> {
  return async (address, signal) => {
    const pid = await pidOf();
    try {
      const r = await run(['nsenter', `--net=/proc/${pid}/ns/net`, '--', 'ping', '-n', '-c', '1', '-W', '2', '--', address], signal ? { signal } : {});
      return { ok: true, stdout: r.stdout, detail: '' };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      return { ok: false, stdout: '', detail: (e.stderr?.trim() || e.message).split('\n').pop() ?? 'no reply' };
    }
  };
}

export const lxcLabRuntime: LabRuntime = {
  id: 'lxc-overlay',
  label: 'LXC (lxc-start in the lab namespace)',
  matches: (m: LabManifest) => m.machines.length > 0 && m.machines.every((x) => ROLE_CONFIG in x.files && ROLE_DELTA in x.files),
  tools: ['lxc-start', 'lxc-stop', 'lxc-attach', 'lxc-info', 'nsenter', 'unshare', 'ping'],
  makesBridges: true,
  async prepare(ctx) {
    for (const m of ctx.manifest.machines) {
      const path = join(ctx.labDir, m.files[ROLE_CONFIG]!);
      await writeFile(path, relocateLxcConfig(await readFile(path, 'utf8'), ctx.manifest.lxcPath, ctx.labDir));
    }
  },
  async start(ctx, machines, signal) {
    const lxcpath = lxcPathOf(ctx);
    for (const m of machines) {
      await ctx.record('container', m.name);
      await run(inNetnsArgv(ctx.netnsPath, ctx.cgroupAside, ['lxc-start', '-n', m.name, '-P', lxcpath, '-l', 'INFO', '-o', join(lxcpath, `${m.name}.log`)]), { signal });
    }
    await Promise.all(machines.map(async (m) => waitForBoot((await this.open(ctx, m, signal)).comm, signal)));
  },
  async open(ctx, m) {
    return { comm: new LabLxcCommunicator(m.name, lxcPathOf(ctx), ctx.netnsPath), ping: pingFrom(() => initPid(ctx, m.name)) };
  },
  async stop(ctx, m) {
    await run(netOnlyArgv(ctx.netnsPath, ['lxc-stop', '-n', m.name, '-P', lxcPathOf(ctx), '-k'])).catch(() => undefined);
  },
};
