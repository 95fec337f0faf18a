import { constants, existsSync } from 'node:fs';
import { access, mkdir, open, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { VmLayout } from '../disks/layout.js';
import { verifyVm, type DiskFormat } from './runtimes/qemu.js';
import type { ResolvedSpec } from '../config/resolve.js';
import { run } from '../exec/run.js';
import { VmgenError } from '../errors.js';
import { familyChecksFor, runChecks, verifyChecks, type NamedResult } from './checks.js';
import { lxcImageRuntimeFactory, lxcRuntimeFactory } from './runtimes/lxc.js';
import { openvzRuntimeFactory } from './runtimes/nspawn.js';
import { ociRuntimeFactory } from './runtimes/podman.js';
import type { Runtime, RuntimeFactory } from './runtimes/types.js';

/** The runtimes `vmgen verify` can start, one line each, tried in this order on an unpacked archive. */
const UNPACKED_RUNTIMES: readonly RuntimeFactory[] = [lxcImageRuntimeFactory, lxcRuntimeFactory, openvzRuntimeFactory];

export interface VerifyRequest {
  archive: string;
  spec: ResolvedSpec;
  /** The VM layout the config describes; a VM archive's disks are found and checked by it. */
  layout: VmLayout;
  workDir: string;
  netOverride?: 'empty' | 'veth';
  signal: AbortSignal;
  log(line: string): void;
}

export interface VerifyReport {
  runtime: string;
  notes: string[];
  results: NamedResult[];
  ok: boolean;
  /** A VM's console, last lines, when something failed. */
  console?: string[];
}

async function isZip(archive: string): Promise<boolean> {
  const fh = await open(archive, 'r');
  try {
    const { buffer } = await fh.read(Buffer.alloc(4), 0, 4, 0);
    return buffer.toString('latin1') === 'PK\x03\x04';
  } finally {
    await fh.close();
  }
}

async function topLevelNames(archive: string, signal: AbortSignal): Promise<Set<string>> {
  const listing = (await isZip(archive)) ? await run(['unzip', '-Z1', archive], { signal }) : await run(['tar', '-tf', archive], { signal });
  return new Set(listing.stdout.split('\n').map((p) => p.replace(/^\.\//, '').split('/')[0]!).filter(Boolean));
}

async function extract(archive: string, dir: string, signal: AbortSignal): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (await isZip(archive)) await run(['unzip', '-q', archive, '-d', dir], { signal });
  else await run(['tar', '--numeric-owner', '-xf', archive, '-C', dir], { signal });
}

/** A VM archive's kind and the format of its disks, from the files at its top level. */
const VM_ARCHIVES: ReadonlyArray<{ label: string; matches(names: Set<string>): boolean; format: DiskFormat; extension: string }> = [
  { label: 'VMware (vmx, vmdk)', matches: (n) => [...n].some((f) => f.endsWith('.vmx')), format: 'vmdk', extension: 'vmdk' },
  { label: 'QEMU/KVM (qcow2)', matches: (n) => n.has('run.sh') && [...n].some((f) => f.endsWith('.xml')), format: 'qcow2', extension: 'qcow2' },
  { label: 'VirtualBox OVA (streamOptimized vmdk)', matches: (n) => [...n].some((f) => f.endsWith('.ovf')), format: 'vmdk', extension: 'vmdk' },
];

async function verifyVmArchive(req: VerifyRequest, kind: (typeof VM_ARCHIVES)[number]): Promise<VerifyReport> {
  const dir = join(req.workDir, 'vm');
  await extract(req.archive, dir, req.signal);
  // The boot disk first: the firmware tries the disks in order.
  const disks = [...req.layout.disks].sort((a, b) => Number(b.boot) - Number(a.boot)).map((d) => {
    const path = join(dir, `${d.file}.${kind.extension}`);
    if (!existsSync(path)) throw new VmgenError('VMG_VERIFY', `${req.archive} has no disk ${d.file}.${kind.extension}`, { hint: 'verify it with the config it was built from' });
    return { path, format: kind.format };
  });
  req.log(`booting the ${kind.label} disks under qemu`);
  const report = await verifyVm({ disks, firmware: req.layout.firmware, layout: req.layout, spec: req.spec, workDir: join(req.workDir, 'qemu'), signal: req.signal, log: req.log });
  return { ...report, notes: [`${kind.label}: ${disks.map((d) => basename(d.path)).join(', ')}`, ...report.notes] };
}

async function runtimeFor(req: VerifyRequest, names: Set<string>): Promise<Runtime> {
  if (names.has('oci-layout')) return ociRuntimeFactory.create({ archive: req.archive, dir: '', workDir: req.workDir, spec: req.spec });
  // LXC needs the container directory to be named like the container.
  const dir = join(req.workDir, 'lxc', req.spec.name);
  await extract(req.archive, dir, req.signal);
  for (const factory of UNPACKED_RUNTIMES) {
    if (await factory.matches(dir)) {
      return factory.create({ archive: req.archive, dir, workDir: req.workDir, spec: req.spec, ...(req.netOverride ? { netOverride: req.netOverride } : {}) });
    }
  }
  throw new VmgenError('VMG_VERIFY', `${req.archive} is not an archive vmgen verify knows (LXC, OpenVZ, OCI, VMware, QEMU or VirtualBox)`, { hint: `its top level holds: ${[...names].slice(0, 8).join(', ')}` });
}

/** Starts the guest, checks it from inside against the spec, stops it and removes what it made. */
export async function verifyArchive(req: VerifyRequest): Promise<VerifyReport> {
  let runtime: Runtime | undefined;
  // The work directory goes whatever fails, the first checks too: the caller may have made it already.
  try {
    familyChecksFor(req.spec);
    await access(req.archive, constants.R_OK).catch((err: NodeJS.ErrnoException) => {
      throw new VmgenError('VMG_FILE_READ', `cannot read ${req.archive}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, { hint: 'give the archive vmgen build printed' });
    });
    await mkdir(req.workDir, { recursive: true });
    const names = await topLevelNames(req.archive, req.signal);
    const vm = VM_ARCHIVES.find((k) => k.matches(names));
    if (vm) return await verifyVmArchive(req, vm);
    runtime = await runtimeFor(req, names);
    req.log(`starting the guest with ${runtime.name}`);
    const comm = await runtime.start(req.signal);
    const checks = verifyChecks(req.spec, { booted: true, addressesInGuest: runtime.addressesInGuest });
    const results = [...(await runChecks(checks, comm)), ...(await runtime.targetChecks(req.spec))];
    return { runtime: runtime.name, notes: runtime.notes, results, ok: results.every((r) => r.ok) };
  } finally {
    await runtime?.stop();
    await rm(req.workDir, { recursive: true, force: true });
  }
}
