import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { SerialCommunicator } from '../../communicators/serial.js';
import type { ResolvedSpec } from '../../config/resolve.js';
import { spawnStream } from '../../exec/stream.js';
import { VmgenError } from '../../errors.js';
import type { VmLayout } from '../../disks/layout.js';
import { runChecks, verifyChecks, type NamedResult } from '../checks.js';
import { probe } from '../../communicators/probe.js';
import { vmChecks } from '../vm-checks.js';
import { waitForBoot } from './wait.js';

/*
 * `vmgen verify` for VM archives: the archive's own disks booted under qemu, with `-snapshot` so
 * the check never writes to them, and the guest reached through its serial console, the one way
 * in that needs nothing from the guest's network or from the host's.
 */

export type DiskFormat = 'raw' | 'qcow2' | 'vmdk';
/** virtio unless the guest's initramfs lacks virtio_blk; sata is the AHCI controller q35 has built in. */
export type DiskBus = 'virtio' | 'sata' | 'nvme';

export interface VmDiskImage {
  path: string;
  format: DiskFormat;
  bus?: DiskBus;
}

export interface Ovmf {
  code: string;
  /** This VM's own copy of the variable store: the firmware writes to it. */
  vars: string;
}

export interface QemuVerifyArgvOptions {
  /** The boot disk first: the firmware tries them in this order. */
  disks: readonly VmDiskImage[];
  firmware: 'bios' | 'efi';
  accel: 'kvm' | 'tcg';
  memoryMiB: number;
  cpus: number;
  /** One user-mode NIC each, so the guest has eth0… as its config names them. */
  nics: number;
  socketPath: string;
  /** Required for efi. */
  ovmf?: Ovmf;
}

/** qemu splits option values at commas; a doubled comma is a literal one, so a path cannot add options. */
export function qemuOptValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/** q35 has one AHCI controller with six ports, ide.0 to ide.5. */
const AHCI_PORTS = 6;

const isSata = (d: VmDiskImage): boolean => d.bus === 'sata';

/** `sataPort`: how many SATA disks come before this one. */
function diskArgs(disk: VmDiskImage, index: number, sataPort: number): string[] {
  const id = `d${index}`;
  const drive = ['-drive', `file=${qemuOptValue(disk.path)},format=${disk.format},if=none,id=${id}`];
  const bus = disk.bus ?? 'virtio';
  if (bus === 'sata' && sataPort >= AHCI_PORTS) throw new Error(`more than ${AHCI_PORTS} SATA disks: q35's AHCI controller has ${AHCI_PORTS} ports`);
  const device = {
    virtio: `virtio-blk-pci,drive=${id}`,
    sata: `ide-hd,drive=${id},bus=ide.${sataPort}`,
    nvme: `nvme,drive=${id},serial=vmgen${index}`,
  }[bus];
  return [...drive, '-device', `${device},bootindex=${index}`];
}

function firmwareArgs(o: QemuVerifyArgvOptions): string[] {
  if (o.firmware === 'bios') return [];
  if (o.ovmf === undefined) throw new Error('UEFI needs the OVMF firmware files');
  return [
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${qemuOptValue(o.ovmf.code)}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${qemuOptValue(o.ovmf.vars)}`,
  ];
}

export function qemuVerifyArgv(o: QemuVerifyArgvOptions): [string, ...string[]] {
  if (o.disks.length === 0) throw new Error('a VM needs at least one disk');
  return [
    'qemu-system-x86_64',
    // No default devices: the serial port, NICs and disks are exactly the ones below.
    '-nodefaults', '-machine', `q35,accel=${o.accel}`, ...(o.accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-m', String(o.memoryMiB), '-smp', String(o.cpus),
    // Writes go to a temporary overlay; a guest that reboots (a panic) ends the run instead of looping.
    '-snapshot', '-no-reboot',
    ...firmwareArgs(o),
    ...o.disks.flatMap((d, i) => diskArgs(d, i, o.disks.slice(0, i).filter(isSata).length)),
    ...Array.from({ length: o.nics }, () => ['-nic', 'user,model=virtio-net-pci']).flat(),
    // Entropy for a guest that has no other source under TCG: sshd and systemd wait for it.
    '-device', 'virtio-rng-pci',
    '-display', 'none', '-monitor', 'none',
    '-chardev', `socket,id=ser0,path=${qemuOptValue(o.socketPath)},server=on,wait=off`, '-serial', 'chardev:ser0',
  ];
}

/** Where distributions put OVMF, code and variable store of the same size paired. */
export const OVMF_CANDIDATES: readonly Ovmf[] = [
  { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' },
  { code: '/usr/share/edk2/ovmf/OVMF_CODE.fd', vars: '/usr/share/edk2/ovmf/OVMF_VARS.fd' },
  { code: '/usr/share/edk2/x64/OVMF_CODE.4m.fd', vars: '/usr/share/edk2/x64/OVMF_VARS.4m.fd' },
];

export function findOvmf(exists: (path: string) => boolean = existsSync): Ovmf | undefined {
  return OVMF_CANDIDATES.find((c) => exists(c.code) && exists(c.vars));
}

/** Whether the CPU flags in /proc/cpuinfo offer hardware virtualization (Intel VT-x or AMD-V). */
export function cpuCanVirtualize(cpuinfo: string): boolean {
  return /^flags\s*:.*\b(?:vmx|svm)\b/m.test(cpuinfo);
}

/**
 * KVM needs both the device and the CPU feature: a VM whose hypervisor hides VT-x can still have a
 * /dev/kvm, and qemu then hangs on its first instruction ("KVM internal error") instead of failing.
 */
export function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return cpuCanVirtualize(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Booting

export interface BootVmOptions {
  disks: readonly VmDiskImage[];
  firmware: 'bios' | 'efi';
  memoryMiB: number;
  cpus: number;
  nics?: number;
  /** Detected from /dev/kvm when not given. */
  accel?: 'kvm' | 'tcg';
  workDir: string;
  signal: AbortSignal;
  log(line: string): void;
}

export interface BootedVm {
  comm: SerialCommunicator;
  accel: 'kvm' | 'tcg';
  /** Powers the guest off through the console when logged in, kills qemu after 30 s; removes the socket. */
  stop(): Promise<void>;
  /** The console's last lines. */
  console(): string[];
  /** Why qemu exited, if it has. */
  exitMessage(): string | undefined;
}

const SOCKET_TIMEOUT_MS = 30_000;
const POWEROFF_TIMEOUT_MS = 30_000;
/** A unix socket path holds at most 107 bytes on Linux. */
const MAX_SOCKET_PATH = 100;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `done` settles or after `ms`, whichever is first. */
function settledWithin(done: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([done.then(() => undefined, () => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}

function connectOnce(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** qemu creates the socket a moment after it starts; until then connecting fails with ENOENT or ECONNREFUSED. */
async function connectConsole(path: string, signal: AbortSignal, exitMessage: () => string | undefined): Promise<Socket> {
  const deadline = Date.now() + SOCKET_TIMEOUT_MS;
  for (;;) {
    try {
      return await connectOnce(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw err;
    }
    const exited = exitMessage();
    if (exited !== undefined) throw new VmgenError('VMG_VERIFY', `qemu exited before opening its serial console: ${exited}`);
    if (signal.aborted) throw signal.reason;
    if (Date.now() > deadline) throw new VmgenError('VMG_VERIFY', `qemu did not open its serial console socket within ${SOCKET_TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
}

/** A socket path short enough for Linux: in the work directory when it fits, else in a temporary one. */
async function socketLocation(workDir: string): Promise<{ path: string; ownDir?: string }> {
  const inWork = join(workDir, 'console.sock');
  if (Buffer.byteLength(inWork) <= MAX_SOCKET_PATH) return { path: inWork };
  const ownDir = await mkdtemp(join(tmpdir(), 'vmgen-'));
  return { path: join(ownDir, 'console.sock'), ownDir };
}

async function ovmfFor(firmware: 'bios' | 'efi', workDir: string): Promise<Ovmf | undefined> {
  if (firmware === 'bios') return undefined;
  const found = findOvmf();
  if (found === undefined) {
    throw new VmgenError('VMG_TOOL_MISSING', 'UEFI firmware (OVMF) not found', { hint: `install ovmf; looked for ${OVMF_CANDIDATES.map((c) => c.code).join(', ')}` });
  }
  const vars = join(workDir, 'OVMF_VARS.fd');
  await copyFile(found.vars, vars);
  return { code: found.code, vars };
}

function exitText(err: unknown): string {
  const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
  if (cause?.code === 'ENOENT') return 'qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)';
  return err instanceof Error ? err.message : String(err);
}

interface QemuProcess {
  /** Settles when qemu has exited, however it did. */
  exit: Promise<void>;
  exitMessage(): string | undefined;
  /** SIGKILL, then waits (a few seconds at most) for the exit. */
  kill(): Promise<void>;
}

/** qemu is killed through a controller of its own, so stop() can kill it without the caller aborting. */
function startQemu(argv: [string, ...string[]], signal: AbortSignal): QemuProcess {
  const killer = new AbortController();
  const forwardAbort = (): void => killer.abort();
  signal.addEventListener('abort', forwardAbort, { once: true });
  const proc = spawnStream(argv, { signal: killer.signal });
  proc.stdout.resume();
  proc.stdin.end();
  let exited: string | undefined;
  const exit = proc.done
    .then(() => { exited = 'powered off'; }, (err: unknown) => { exited = exitText(err); })
    .finally(() => signal.removeEventListener('abort', forwardAbort));
  return {
    exit,
    exitMessage: () => exited,
    async kill() {
      if (exited === undefined) killer.abort();
      await settledWithin(exit, 5000);
    },
  };
}

export async function bootVm(opts: BootVmOptions): Promise<BootedVm> {
  if (opts.signal.aborted) throw opts.signal.reason;
  await mkdir(opts.workDir, { recursive: true });
  const accel = opts.accel ?? (kvmUsable() ? 'kvm' : 'tcg');
  const ovmf = await ovmfFor(opts.firmware, opts.workDir);
  const socket = await socketLocation(opts.workDir);
  const argv = qemuVerifyArgv({
    disks: opts.disks, firmware: opts.firmware, accel, memoryMiB: opts.memoryMiB, cpus: opts.cpus,
    nics: opts.nics ?? 1, socketPath: socket.path, ...(ovmf ? { ovmf } : {}),
  });
  opts.log(`starting qemu (${accel.toUpperCase()}, ${opts.firmware === 'efi' ? 'UEFI' : 'BIOS'}, ${opts.memoryMiB} MiB, ${opts.cpus} CPU${opts.cpus === 1 ? '' : 's'}) on a snapshot of ${opts.disks.length} disk${opts.disks.length === 1 ? '' : 's'}`);
  const qemu = startQemu(argv, opts.signal);
  const cleanup = async (): Promise<void> => {
    await qemu.kill();
    await rm(socket.ownDir ?? socket.path, { recursive: true, force: true });
    if (ovmf) await rm(ovmf.vars, { force: true });
  };

  let conn: Socket;
  try {
    conn = await connectConsole(socket.path, opts.signal, qemu.exitMessage);
  } catch (err) {
    await cleanup();
    throw err;
  }
  const comm = new SerialCommunicator(conn, { description: `serial console of qemu (${accel})` });
  const stop = async (): Promise<void> => {
    if (comm.isLoggedIn && qemu.exitMessage() === undefined) {
      opts.log('powering the guest off');
      comm.poweroff();
      await settledWithin(qemu.exit, POWEROFF_TIMEOUT_MS);
      if (qemu.exitMessage() === undefined) opts.log(`the guest did not power off within ${POWEROFF_TIMEOUT_MS / 1000} s; killing qemu`);
    }
    conn.destroy();
    await cleanup();
  };
  let stopping: Promise<void> | undefined;
  return { comm, accel, stop: () => (stopping ??= stop()), console: () => comm.tail(), exitMessage: qemu.exitMessage };
}

// ---------------------------------------------------------------------------------------------
// Verifying

export interface VerifyVmRequest {
  disks: readonly VmDiskImage[];
  firmware: 'bios' | 'efi';
  layout: VmLayout;
  spec: ResolvedSpec;
  workDir: string;
  /** Detected (kvmUsable) when not given. */
  accel?: 'kvm' | 'tcg';
  signal: AbortSignal;
  log(line: string): void;
}

export interface VmVerifyReport {
  runtime: string;
  notes: string[];
  results: NamedResult[];
  ok: boolean;
  /** The console's last lines, when something failed. */
  console?: string[];
}

const LOGIN_TIMEOUT_MS = { kvm: 120_000, tcg: 300_000 } as const;

/** Only a plain password can be typed at the login prompt; a hash cannot. */
function consolePassword(spec: ResolvedSpec): string {
  const pw = spec.rootPassword;
  if (pw !== undefined && 'plain' in pw) return pw.plain;
  throw new VmgenError('VMG_VERIFY', `cannot log in to verify ${spec.name}: the config gives root ${pw === undefined ? 'no password' : 'only a password hash'}`, {
    hint: 'vmgen verify logs in as root on the serial console; set [config] root_passwd in the config',
  });
}

/** The spec's size, within what this host can give a guest without starving itself. */
function vmSize(spec: ResolvedSpec): { memoryMiB: number; cpus: number; notes: string[] } {
  const hostMiB = Math.floor(totalmem() / 2 / 1024 / 1024);
  const memoryMiB = Math.min(spec.ramMiB, hostMiB);
  const cpus = Math.max(1, Math.min(spec.cpus, availableParallelism()));
  return {
    memoryMiB, cpus,
    notes: [
      ...(memoryMiB < spec.ramMiB ? [`booted with ${memoryMiB} MiB instead of ${spec.ramMiB} MiB: half of this host's memory`] : []),
      ...(cpus < spec.cpus ? [`booted with ${cpus} CPUs instead of ${spec.cpus}: this host has ${cpus}`] : []),
    ],
  };
}

function hostnameAtPrompt(seen: string, want: string): NamedResult {
  return { name: 'hostname (login prompt)', ok: seen === want, detail: seen === want ? want : `is ${seen}, want ${want}` };
}

/** How the boot ended, as systemd says; units that failed are named, the checks judge what matters. */
async function bootResult(vm: BootedVm, signal: AbortSignal, timeoutMs: number): Promise<NamedResult> {
  const state = await waitForBoot(vm.comm, signal, timeoutMs);
  if (state !== 'degraded') return { name: 'boot', ok: true, detail: `systemd: ${state}` };
  const failed = await probe(vm.comm, ['systemctl', '--failed', '--plain', '--no-legend', '--no-pager']);
  const units = failed.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean);
  return { name: 'boot', ok: true, detail: `systemd: degraded (failed: ${units.join(', ') || 'unknown'})` };
}

/** Logs in and runs every check; results gathered so far stay in `results` when a step throws. */
async function checkGuest(vm: BootedVm, req: VerifyVmRequest, password: string, results: NamedResult[]): Promise<void> {
  const timeoutMs = LOGIN_TIMEOUT_MS[vm.accel];
  req.log(`waiting up to ${timeoutMs / 1000} s for the login prompt on the serial console`);
  try {
    await vm.comm.login('root', password, { timeoutMs, signal: req.signal });
  } finally {
    const seen = vm.comm.promptHostname;
    if (seen !== undefined) results.push(hostnameAtPrompt(seen, req.spec.hostname));
  }
  req.log('logged in as root; waiting for systemd to finish booting');
  results.push(await bootResult(vm, req.signal, timeoutMs));
  req.log('checking the guest');
  const checks = [...verifyChecks(req.spec, { booted: true, addressesInGuest: true }), ...vmChecks(req.layout)];
  results.push(...(await runChecks(checks, vm.comm)));
}

/** The step that failed, named for the report: before the prompt, at the login, or while booting. */
function failedStep(vm: BootedVm, err: unknown): NamedResult {
  const stage = vm.comm.promptHostname === undefined ? 'login prompt' : vm.comm.isLoggedIn ? 'boot' : 'console login as root';
  const message = err instanceof Error ? err.message : String(err);
  const qemu = vm.exitMessage();
  const silent = vm.console().length === 0 ? '; the console printed nothing: does the kernel command line say console=ttyS0?' : '';
  return { name: stage, ok: false, detail: `${message}${qemu === undefined ? '' : ` (qemu: ${qemu})`}${silent}` };
}

/** Boots the archive's disks, checks the guest from its console against the spec, powers it off. */
export async function verifyVm(req: VerifyVmRequest): Promise<VmVerifyReport> {
  const password = consolePassword(req.spec);
  const accel = req.accel ?? (kvmUsable() ? 'kvm' : 'tcg');
  const size = vmSize(req.spec);
  const notes = [
    'booted with -snapshot: the archive\'s disks are not written to',
    ...(accel === 'tcg' ? ['no usable /dev/kvm: the CPU is emulated (TCG), so the guest boots slowly'] : []),
    ...size.notes,
  ];
  const vm = await bootVm({
    disks: req.disks, firmware: req.firmware, memoryMiB: size.memoryMiB, cpus: size.cpus,
    nics: Math.max(1, req.spec.nics.length), accel, workDir: req.workDir, signal: req.signal, log: req.log,
  });
  const results: NamedResult[] = [];
  let tail: string[] = [];
  try {
    await checkGuest(vm, req, password, results);
  } catch (err) {
    if (req.signal.aborted) throw err;
    results.push(failedStep(vm, err));
  } finally {
    tail = vm.console();
    await vm.stop();
  }
  const ok = results.every((r) => r.ok);
  return { runtime: `qemu (${accel.toUpperCase()}, serial console)`, notes, results, ok, ...(ok ? {} : { console: tail }) };
}
