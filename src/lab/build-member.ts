import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Catalogs } from '../catalog/schema.js';
import { VmgenError } from '../errors.js';
import { build } from '../orchestrator/build.js';
import { buildableTarget } from '../targets/commanders.js';
import type { StepEvent } from '../steps/run-steps.js';
import type { Packer, TargetOptions } from '../targets/types.js';
import { DEFAULT_LAB_ROOT, labBridgeName, labMachineDir, labNetworkName, type LabManifestNetwork } from './manifest.js';
import { labTar, type Renamed } from './member-tar.js';
import { hashesFromShadow, plainPasswords } from './shared-hashes.js';
import { resolveInRoot } from '../communicators/rootfs-path.js';
import { MEMBER_PACKERS } from './members/registry.js';
import type { MemberPackRow } from './members/types.js';
import type { Lab } from './types.js';

/*
 * One machine of a lab, built on its own (the service runs each as a queue job): its part of the
 * lab's archive in one file, NAME-TARGET.member.tar:
 *   member.json   what it is (MemberInfo): its files by role, the base it stands on by layer key
 *   machine/      becomes machines/NAME in the lab's archive
 *   base/         the base's content, when asked for (includeBase: a member built on another host)
 * Without base/, assembleLab reads the base from this host's cache, where member.json says it is.
 */

export const MEMBER_FILE_VERSION = 1;

export const memberInfoSchema = z.object({
  version: z.literal(MEMBER_FILE_VERSION),
  lab: z.string(),
  target: z.string(),
  machine: z.string(),
  files: z.record(z.string(), z.string()),
  base: z.object({
    id: z.string(),
    layerKey: z.string(),
    entries: z.array(z.string()),
    included: z.boolean(),
    /** The host directory holding `entries` where the member was built. */
    source: z.string(),
  }).strict().optional(),
}).strict();
export type MemberInfo = z.infer<typeof memberInfoSchema>;

export interface LabMemberOutput {
  /** The member file: NAME-TARGET.member.tar. */
  file: string;
  info: MemberInfo;
  /** The hashes its guest made of the config's plain passwords, by account (shared-hashes.ts). */
  passwordHashes: Record<string, string>;
}

export interface LabBuildOptions {
  catalogs: Catalogs;
  cacheRoot: string;
  /** lxc: where the lab's archive will be unpacked (absolute); default /var/lib/vmgen/labs/LAB. */
  labDir?: string;
  /** Put the base into the member file, for an assembly on another host. */
  includeBase?: boolean;
  targetOptions?: TargetOptions;
  signal?: AbortSignal;
  onEvent?(e: StepEvent): void;
  log?(line: string): void;
}

/** The lab's networks as the manifest names them (bridge, libvirt network, segment, internal network). */
export function labManifestNetworks(lab: Lab): LabManifestNetwork[] {
  return lab.networks.map((n) => {
    const named = labNetworkName(lab.name, n.name);
    return {
      name: n.name, subnet: n.subnet, prefix: n.prefix, ...(n.gateway === undefined ? {} : { gateway: n.gateway }), dns: n.dns,
      bridge: labBridgeName(lab.name, n.name), libvirtNetwork: named, segment: named, internalNetwork: named,
    };
  });
}

export function memberPackerFor(targetId: string): MemberPackRow {
  const row = MEMBER_PACKERS[targetId];
  if (row === undefined) {
    throw new VmgenError('VMG_UNSUPPORTED', `labs cannot be built for ${targetId}`, { hint: `lab targets: ${Object.keys(MEMBER_PACKERS).join(', ')}` });
  }
  return row;
}

export function labDirOf(lab: Lab, opts: Pick<LabBuildOptions, 'labDir'>): string {
  const dir = opts.labDir ?? `${DEFAULT_LAB_ROOT}/${lab.name}`;
  if (!dir.startsWith('/') || /[\s\0:,]/.test(dir)) {
    throw new VmgenError('VMG_USAGE', `the lab directory ${JSON.stringify(dir)} must be an absolute path without whitespace, ':' or ','`,
      { hint: 'LXC reads absolute paths only and overlayfs splits its options at , and :' });
  }
  return dir.replace(/\/+$/, '');
}

export async function buildLabMember(lab: Lab, machineName: string, targetId: string, outDir: string, opts: LabBuildOptions): Promise<LabMemberOutput> {
  const machine = lab.machines.find((m) => m.name === machineName);
  if (machine === undefined) throw new VmgenError('VMG_NOT_FOUND', `lab ${lab.name} has no machine ${machineName}`);
  const target = buildableTarget(targetId);
  const row = memberPackerFor(target.id);
  await mkdir(outDir, { recursive: true });
  const staging = await mkdtemp(join(outDir, `.${machine.name}.member.`));
  try {
    const machineDir = join(staging, 'machine');
    await mkdir(machineDir);
    let info: MemberInfo | undefined;
    let passwordHashes: Record<string, string> = {};
    const accounts = plainPasswords(machine.config).map(([account]) => account);
    const packer: Packer = {
      hostTools: () => ['tar', 'qemu-img'],
      package: async (ctx) => {
        if (accounts.length > 0) passwordHashes = await guestHashes(join(ctx.stageDir, 'rootfs'), accounts);
        const packed = await row.pack(ctx, { lab, machine, networks: labManifestNetworks(lab), labDir: labDirOf(lab, opts), machineDir });
        const base = packed.base;
        info = {
          version: MEMBER_FILE_VERSION, lab: lab.name, target: target.id, machine: machine.name, files: packed.files,
          ...(base ? { base: { id: base.id, layerKey: base.layerKey, entries: base.entries, included: opts.includeBase === true, source: base.source } } : {}),
        };
        await writeFile(join(staging, 'member.json'), `${JSON.stringify(info, null, 2)}\n`);
        const renamed: Renamed[] = (packed.extra ?? []).map(([host, rel]) => [host, `machine/${rel}`]);
        if (base && opts.includeBase === true) for (const e of base.entries) renamed.push([join(base.source, e), `base/${e}`]);
        await labTar(ctx.output, staging, ['member.json', 'machine'], renamed, { signal: ctx.signal });
      },
    };
    const result = await build({
      config: machine.config, sources: machine.sources, catalogs: opts.catalogs, target: target.id, format: target.commander.formats[0]!,
      outDir: join(staging, 'out'), cacheRoot: opts.cacheRoot, packer,
      ...(opts.targetOptions ? { targetOptions: opts.targetOptions } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onEvent ? { onEvent: opts.onEvent } : {}), ...(opts.log ? { log: opts.log } : {}),
    });
    if (info === undefined) throw new VmgenError('VMG_INTERNAL', `${machine.name}: the build packed no member`);
    const file = join(outDir, `${machine.name}-${target.id}.member.tar`);
    await rename(result.archive, file);
    return { file, info, passwordHashes };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** A guest without /etc/shadow (Windows) has none to share. */
async function guestHashes(rootfs: string, accounts: readonly string[]): Promise<Record<string, string>> {
  try {
    return hashesFromShadow(await readFile(resolveInRoot(rootfs, '/etc/shadow'), 'utf8'), accounts);
  } catch {
    return {};
  }
}

/** Where a machine's files go in the lab's archive. */
export { labMachineDir };
