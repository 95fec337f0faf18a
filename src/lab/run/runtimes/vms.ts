import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { SerialCommunicator } from '../../../communicators/serial.js';
import { resolveVmLayout } from '../../../disks/layout.js';
import { run } from '../../../exec/run.js';
import { VmgenError } from '../../../errors.js';
import { findOvmf, kvmUsable, qemuOptValue, qemuVerifyArgv, type VmDiskImage } from '../../../verify/runtimes/qemu.js';
import { waitForBoot } from '../../../verify/runtimes/wait.js';
import type { LabManifest, LabManifestMachine } from '../../manifest.js';
import type { MachineAccess } from '../../verify/run.js';
import { checkIfName, netOnlyArgv, tapArgvs } from '../netns.js';
import type { LabRunContext, LabRuntime } from './types.js';

/*
 * VMs under qemu: each machine's disks (qcow2 over the shared base) booted in the lab's namespace,
 * one tap per NIC on its network's bridge, with the lab's MAC. TCG where KVM does not work. The
 * guest is reached through its serial console, a unix socket in the state dir: `up` logs in once
 * to know the guest booted and logs out again, and `verify` (another process) logs in anew.
 */

const ROLE_DOMAIN = 'domain';
const DISK_ROLE = 'disk:';
const LOGIN_MS = { kvm: 120_000, tcg: 300_000 } as const;
const RELOGIN_MS = 60_000;
const STOP_WAIT_MS = 10_000;

function vmDir(ctx: LabRunContext): string {
  return join(ctx.labDir, 'vms');
}

const socketOf = (ctx: LabRunContext, m: LabManifestMachine): string => join(vmDir(ctx), `${m.name}.sock`);
const pidfileOf = (ctx: LabRunContext, m: LabManifestMachine): string => join(vmDir(ctx), `${m.name}.pid`);

/** Taps live in the lab's namespace only, so a short name by position is unique: vt<machine>n<nic>. */
export function tapName(machineIndex: number, nicIndex: number): string {
  return checkIfName(`vt${machineIndex}n${nicIndex}`);
}

/** `-netdev tap` per NIC on the tap made for it, with the lab's MAC: qemu opens the tap, it makes none. */
export function tapNicArgs(nics: ReadonlyArray<{ tap: string; mac: string }>): string[] {
  return nics.flatMap((n, i) => [
    '-netdev', `tap,id=n${i},ifname=${qemuOptValue(n.tap)},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=n${i},mac=${qemuOptValue(n.mac)}`,
  ]);
}

function password(ctx: LabRunContext, m: LabManifestMachine): string {
  const pw = ctx.machines.get(m.name)?.spec.rootPassword;
  if (pw !== undefined && 'plain' in pw) return pw.plain;
  throw new VmgenError('VMG_LAB_RUN', `${m.name}: the console login needs root's password, and the config gives ${pw === undefined ? 'none' : 'only a hash'}`, { hint: 'set [config] root_passwd in the machine config' });
}

async function connect(path: string, signal: AbortSignal, timeoutMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = createConnection(path);
        s.once('error', reject);
        s.once('connect', () => { s.off('error', reject); resolve(s); });
      });
    } catch (err) {
      if (Date.now() > deadline || signal.aborted) throw new VmgenError('VMG_LAB_RUN', `no serial console at ${path}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Logs in on the console; close() logs out (getty prompts again for the next session) and hangs up. */
async function consoleSession(ctx: LabRunContext, m: LabManifestMachine, signal: AbortSignal, timeoutMs: number): Promise<MachineAccess> {
  const socket = await connect(socketOf(ctx, m), signal, 30_000);
  const comm = new SerialCommunicator(socket, { description: `serial console of ${m.name}` });
  try {
    await comm.login('root', password(ctx, m), { timeoutMs, signal });
  } catch (err) {
    socket.destroy();
    throw new VmgenError('VMG_LAB_RUN', `${m.name}: no login on the serial console: ${(err as Error).message}`, { hint: `its console, last lines:\n${comm.tail().slice(-10).join('\n')}` });
  }
  return {
    comm,
    async close() {
      socket.write('\x03\rexit\r');
      await new Promise((r) => setTimeout(r, 300));
      socket.destroy();
    },
  };
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

export const qemuLabRuntime: LabRuntime = {
  id: 'qemu-tap',
  label: 'qemu (taps on the lab bridges, serial console)',
  matches: (m: LabManifest) => m.machines.length > 0 && m.machines.every((x) => ROLE_DOMAIN in x.files && Object.keys(x.files).some((k) => k.startsWith(DISK_ROLE))),
  tools: ['qemu-system-x86_64', 'nsenter'],
  makesBridges: true,
  async start(ctx, machines, signal) {
    await mkdir(vmDir(ctx), { recursive: true });
    const accel = kvmUsable() ? 'kvm' : 'tcg';
    // Every VM of the stage boots at once: under TCG a boot takes a minute or two.
    await Promise.all(machines.map(async (m) => {
      const machine = ctx.machines.get(m.name);
      if (machine === undefined) throw new Error(`${m.name} has no config`);
      const layout = resolveVmLayout(machine.config, machine.spec.os, machine.spec.name);
      const disks: VmDiskImage[] = [...layout.disks].sort((a, b) => Number(b.boot) - Number(a.boot)).map((d) => {
        const rel = m.files[`${DISK_ROLE}${d.name}`];
        if (rel === undefined) throw new VmgenError('VMG_LAB_RUN', `${m.name}: the archive has no disk ${d.name}`);
        return { path: join(ctx.labDir, rel), format: 'qcow2' };
      });
      const index = ctx.manifest.machines.indexOf(m);
      const nics = m.nics.map((n, i) => {
        const net = ctx.manifest.networks.find((x) => x.name === n.network);
        if (net === undefined) throw new VmgenError('VMG_LAB_RUN', `${m.name}: no network ${n.network}`);
        return { tap: tapName(index, i), mac: n.mac, bridge: net.bridge };
      });
      for (const n of nics) {
        await ctx.record('tap', n.tap);
        for (const argv of tapArgvs(ctx.netns, n.tap, n.bridge)) await run(argv, { signal });
      }
      const ovmf = layout.firmware === 'efi' ? findOvmf() : undefined;
      if (layout.firmware === 'efi' && ovmf === undefined) throw new VmgenError('VMG_TOOL_MISSING', 'UEFI firmware (OVMF) not found', { hint: 'install ovmf' });
      const vars = join(vmDir(ctx), `${m.name}.OVMF_VARS.fd`);
      if (ovmf) await copyFile(ovmf.vars, vars);
      const base = qemuVerifyArgv({
        disks, firmware: layout.firmware, accel, memoryMiB: machine.spec.ramMiB, cpus: 1, nics: 0, socketPath: socketOf(ctx, m),
        ...(ovmf ? { ovmf: { code: ovmf.code, vars } } : {}),
      });
      ctx.log(`${m.name}: qemu (${accel.toUpperCase()}, ${machine.spec.ramMiB} MiB), NICs on ${nics.map((n) => `${n.tap}@${n.bridge}`).join(', ')}`);
      await ctx.record('vm', m.name);
      await run(netOnlyArgv(ctx.netnsPath, [...base, ...tapNicArgs(nics), '-daemonize', '-pidfile', pidfileOf(ctx, m)]), { signal });
      const session = await consoleSession(ctx, m, signal, LOGIN_MS[accel]);
      try {
        await waitForBoot(session.comm, signal, LOGIN_MS[accel]);
      } finally {
        await session.close?.();
      }
    }));
  },
  open: (ctx, m, signal) => consoleSession(ctx, m, signal, RELOGIN_MS),
  async stop(ctx, m) {
    const file = pidfileOf(ctx, m);
    if (!existsSync(file)) return;
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_WAIT_MS;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  },
};
