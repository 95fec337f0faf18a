import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { archivePath, partialArchivePath, publishArchive } from '../archive/publish.js';
import { TAR_COMPRESSION } from '../archive/write.js';
import { VmgenError } from '../errors.js';
import { run } from '../exec/run.js';
import { memberInfoSchema, memberPackerFor, labManifestNetworks, type MemberInfo } from './build-member.js';
import { LAB_MANIFEST_FILE, LAB_MANIFEST_VERSION, labMachineDir, type LabManifest, type LabManifestBase } from './manifest.js';
import { labTar, TAR_KEEP, type Renamed } from './member-tar.js';
import { LAB_TOPOLOGY } from './topology/registry.js';
import type { Lab } from './types.js';

export interface AssembleOptions {
  /** lxc: the directory the configs were written for (lab.json's lxcPath). */
  labDir?: string;
  /** The lab's inputs as given, stored under lab/: [path in lab/, text]. */
  inputs?: ReadonlyArray<readonly [string, string]>;
  signal?: AbortSignal;
}

/** The manifest of a lab from its members: pure, so lab.json is golden-tested without a build. */
export function labManifest(lab: Lab, target: string, format: string, members: readonly MemberInfo[], opts: Pick<AssembleOptions, 'labDir' | 'inputs'> = {}): LabManifest {
  const networks = labManifestNetworks(lab);
  const bases = new Map<string, LabManifestBase>();
  for (const m of members) if (m.base && !bases.has(m.base.id)) bases.set(m.base.id, { id: m.base.id, layerKey: m.base.layerKey, path: `bases/${m.base.id}` });
  const topology = LAB_TOPOLOGY[target]?.(lab, networks) ?? [];
  return {
    version: LAB_MANIFEST_VERSION,
    lab: { name: lab.name, ...(lab.description === undefined ? {} : { description: lab.description }) },
    target, format,
    ...(opts.labDir === undefined ? {} : { lxcPath: opts.labDir }),
    networks,
    bases: [...bases.values()],
    machines: lab.machines.map((machine) => {
      const info = members.find((m) => m.machine === machine.name);
      if (info === undefined) throw new VmgenError('VMG_BUILD', `lab ${lab.name}: no member was built for ${machine.name}`);
      const dir = labMachineDir(machine.name);
      return {
        name: machine.name, group: machine.group, ...(machine.index === undefined ? {} : { index: machine.index }),
        configPath: machine.configPath, dir, config: `${dir}/machine.conf`,
        nics: machine.nics.map((n) => ({ nic: n.nic, network: n.network, address: n.address, mac: n.mac })),
        ...(info.base ? { base: info.base.id } : {}),
        files: Object.fromEntries(Object.entries(info.files).map(([role, path]) => [role, `${dir}/${path}`])),
      };
    }),
    topology: Object.fromEntries(topology.map((f) => [f.role, f.path])),
    ...(opts.inputs && opts.inputs.length > 0 ? { inputs: opts.inputs.map(([p]) => `lab/${p}`) } : {}),
  };
}

/** A member file's member.json. */
export async function readMemberInfo(file: string, signal?: AbortSignal): Promise<MemberInfo> {
  const { stdout } = await run(['tar', '-xOf', file, 'member.json'], signal ? { signal } : {});
  return memberInfoSchema.parse(JSON.parse(stdout));
}

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

/**
 * The lab's archive from its members' files (built here or on other hosts): each machine's part
 * under machines/NAME, each base once under bases/ID (from the first member that carries it, else
 * from this host's cache where a member says it is), lab.json and the topology; published atomically.
 */
export async function assembleLab(lab: Lab, target: string, memberFiles: readonly string[], outDir: string, opts: AssembleOptions = {}): Promise<string> {
  const row = memberPackerFor(target);
  await mkdir(outDir, { recursive: true });
  const staging = await mkdtemp(join(outDir, `.${lab.name}.assemble.`));
  const sig = opts.signal ? { signal: opts.signal } : {};
  let partial: string | undefined;
  try {
    const infos: MemberInfo[] = [];
    const baseFrom = new Map<string, Renamed[] | 'staged'>();
    for (const file of memberFiles) {
      const info = await readMemberInfo(file, opts.signal);
      if (info.lab !== lab.name || info.target !== target) {
        throw new VmgenError('VMG_BUILD', `${file} is a member of lab ${info.lab} for ${info.target}, not of ${lab.name} for ${target}`);
      }
      if (infos.some((i) => i.machine === info.machine)) throw new VmgenError('VMG_BUILD', `two members for machine ${info.machine}`);
      infos.push(info);
      const dir = join(staging, labMachineDir(info.machine));
      await mkdir(dir, { recursive: true });
      await run(['tar', ...TAR_KEEP, '-xf', file, '-C', dir, '--strip-components=1', 'machine'], sig);
      const base = info.base;
      if (base === undefined || baseFrom.get(base.id) === 'staged') continue;
      if (base.included) {
        const to = join(staging, 'bases', base.id);
        await mkdir(to, { recursive: true });
        await run(['tar', ...TAR_KEEP, '-xf', file, '-C', to, '--strip-components=1', 'base'], sig);
        baseFrom.set(base.id, 'staged');
      } else if (!baseFrom.has(base.id) && await exists(join(base.source, base.entries[0] ?? ''))) {
        baseFrom.set(base.id, base.entries.map((e) => [join(base.source, e), `bases/${base.id}/${e}`] as const));
      }
    }
    for (const info of infos) {
      if (info.base && !baseFrom.has(info.base.id)) {
        throw new VmgenError('VMG_BUILD', `base ${info.base.id} of ${info.machine} (layer ${info.base.layerKey}) is neither in a member file nor in this host's cache`,
          { hint: 'build one member with its base included (includeBase) or assemble on the host that built it' });
      }
    }
    const manifest = labManifest(lab, target, row.labFormat, infos, opts);
    await writeFile(join(staging, LAB_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const machine of lab.machines) await writeFile(join(staging, labMachineDir(machine.name), 'machine.conf'), machine.text);
    for (const f of LAB_TOPOLOGY[target]?.(lab, manifest.networks) ?? []) {
      await mkdir(dirname(join(staging, f.path)), { recursive: true });
      await writeFile(join(staging, f.path), f.content, { mode: f.mode ?? 0o644 });
    }
    for (const [p, text] of opts.inputs ?? []) {
      if (p.startsWith('/') || p.split('/').includes('..')) throw new VmgenError('VMG_USAGE', `lab input ${p} is outside the lab's directory`);
      await mkdir(dirname(join(staging, 'lab', p)), { recursive: true });
      await writeFile(join(staging, 'lab', p), text);
    }
    const entries = [LAB_MANIFEST_FILE, 'machines', ...(await exists(join(staging, 'topology')) ? ['topology'] : []),
      ...(await exists(join(staging, 'bases')) ? ['bases'] : []), ...(await exists(join(staging, 'lab')) ? ['lab'] : [])];
    const renamed = [...baseFrom.values()].flatMap((v) => (v === 'staged' ? [] : v));
    partial = await partialArchivePath(outDir, lab.name);
    await labTar(partial, staging, entries, renamed, { ...sig, compress: TAR_COMPRESSION[row.labFormat].flags });
    const archive = archivePath(outDir, lab.name, target, row.labFormat);
    await publishArchive(partial, archive);
    partial = undefined;
    return archive;
  } finally {
    await rm(staging, { recursive: true, force: true });
    if (partial !== undefined) await rm(partial, { force: true });
  }
}
