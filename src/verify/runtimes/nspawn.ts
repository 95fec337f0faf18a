import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { NsenterCommunicator } from '../../communicators/nsenter.js';
import { run } from '../../exec/run.js';
import { spawnStream, type StreamedProcess } from '../../exec/stream.js';
import { VmgenError } from '../../errors.js';
import type { RuntimeFactory } from './types.js';
import { waitForBoot } from './wait.js';

/** The values of a vzctl config file (KEY="value" lines; vmgen writes no shell beyond that). */
export function parseVzConf(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)="([^"]*)"\s*$/.exec(line.trim());
    if (m) values.set(m[1]!, m[2]!);
  }
  return values;
}

function childPid(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * OpenVZ needs its own kernel, which this host does not have; the template cache is booted under
 * systemd-nspawn instead, and what vzctl would apply from CTID.conf (the venet addresses) is
 * checked in CTID.conf itself.
 */
export const openvzRuntimeFactory: RuntimeFactory = {
  matches: async (dir) => {
    const names = await readdir(dir);
    return names.some((n) => /^\d+\.conf$/.test(n)) && names.some((n) => n.endsWith('.tar.gz'));
  },
  async create({ dir, workDir, spec }) {
    const names = readdirSync(dir);
    const conf = names.find((n) => /^\d+\.conf$/.test(n))!;
    const template = names.find((n) => n.endsWith('.tar.gz'))!;
    const vz = parseVzConf(await readFile(join(dir, conf), 'utf8'));
    const root = join(workDir, 'private');
    await mkdir(root, { recursive: true });
    await run(['tar', '--numeric-owner', '-xzf', join(dir, template), '-C', root]);
    let proc: StreamedProcess | undefined;
    let leader: number | undefined;
    const controller = new AbortController();
    return {
      name: 'systemd-nspawn (no OpenVZ kernel here)',
      notes: [`booted ${template} with systemd-nspawn; ${conf} read for what vzctl would apply`],
      addressesInGuest: false,
      async start(signal) {
        proc = spawnStream(['systemd-nspawn', '--quiet', '--register=no', '--keep-unit', '--boot', '--private-network',
          // The guest's own time zone, resolv.conf and journal, not copies of the host's.
          '--timezone=off', '--resolv-conf=off', '--link-journal=no',
          `--machine=${spec.name}`, '-D', root], { signal: controller.signal });
        proc.done.catch(() => undefined);
        const deadline = Date.now() + 20_000;
        while (leader === undefined && Date.now() < deadline) {
          if (signal.aborted) throw signal.reason;
          await new Promise((r) => setTimeout(r, 200));
          if (proc.pid !== undefined) leader = childPid(proc.pid);
        }
        if (leader === undefined) throw new VmgenError('VMG_VERIFY', 'systemd-nspawn did not start the guest');
        const comm = new NsenterCommunicator(leader);
        await waitForBoot(comm, signal);
        return comm;
      },
      async stop() {
        // Killing the guest's init ends its whole PID namespace; nspawn then exits.
        if (leader !== undefined) {
          try {
            process.kill(leader, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        if (proc) await Promise.race([proc.done.catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
        controller.abort();
      },
      targetChecks: async () => {
        const ips = (vz.get('IP_ADDRESS') ?? '').split(/\s+/).filter(Boolean);
        const checks = spec.nics.filter((n) => n.mode === 'static' && n.address).map((n) => ({
          name: `address ${n.address} (${conf} IP_ADDRESS)`,
          ok: ips.some((ip) => ip.split('/')[0] === n.address),
          detail: `IP_ADDRESS="${ips.join(' ')}"`,
        }));
        checks.push({ name: `hostname (${conf} HOSTNAME)`, ok: vz.get('HOSTNAME') === spec.hostname, detail: `HOSTNAME="${vz.get('HOSTNAME') ?? ''}"` });
        return checks;
      },
    };
  },
};
