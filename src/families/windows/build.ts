import { archivePath, partialArchivePath, publishArchive } from '../../archive/publish.js';
import { copyFile, mkdir, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LayerCache } from '../../cache/store.js';
import type { BuildOptions, BuildResult, FamilyBuildContext } from '../../orchestrator/build.js';
import type { Catalogs } from '../../catalog/schema.js';
import type { ResolvedSpec } from '../../config/resolve.js';
import { checkHostTools } from '../../orchestrator/host-tools.js';
import { archiveTools } from '../../archive/write.js';
import { VmgenError } from '../../errors.js';
import { WINDOWS_DIR, windowsPlan } from './configure.js';
import { run } from '../../exec/run.js';
import { type WindowsRelease, windowsRelease } from './releases.js';
import { GUEST_KITS_DIR, KITS_DIR_ENV, type LocatedKit, locateKits, windowsInstallerFiles, windowsKits } from './kits.js';
import { runPipeline, type Step, type StepEvent } from '../../orchestrator/run-steps.js';
import type { ArchiveFormat, Commander, DiskImage, Target, TargetOptions } from '../../targets/types.js';
import type { VmLayout } from '../../disks/layout.js';
import { platformOffered } from '../platform-security.js';
import { renderAutounattend } from './autounattend.js';
import { type GuestPayload, buildFromBaseDisk } from './base-disk.js';

/*
 * How Windows guests are built: there is no root file system layer to make. With a base disk for
 * the OS (section 4.2 of the seed), the machine's disks are cloned from it and config.bat, setup.bat
 * and the kits are written into the system volume; without one, for Windows 7 and later, the disks
 * are blank and an answer ISO (autounattend.xml, the scripts, the kits) is attached as a CD next
 * to the install ISO of cd_drives. The target packs the disks with its own description file.
 */

export const BASE_DISKS_DIR_ENV = 'VMGEN_BASE_DISKS_DIR';
const BASE_DISK_EXTENSIONS = ['vmdk', 'qcow2', 'raw', 'img'];
/** The host tools each method runs (src/exec/tools.ts has their packages); the archive's packer comes on top. */
export const WINDOWS_TOOLS: Record<WindowsMethod, readonly string[]> = {
  'base-disk': ['qemu-img', 'sfdisk', 'dd', 'mv', 'cp', 'ntfsclone', 'ntfsresize', 'ntfscp', 'ntfsls', 'mkntfs', 'mkfs.vfat'],
  autounattend: ['qemu-img', 'xorriso'],
};

/**
 * base-disk: the seed's cloning (XP, and any release the admin has a base disk for);
 * autounattend: blank disks and Windows Setup from the install ISO, answered by autounattend.xml.
 */
export type WindowsMethod = 'base-disk' | 'autounattend';

export interface WindowsBuildInput {
  spec: ResolvedSpec;
  catalogs: Catalogs;
  target: Target & { commander: Commander };
  layout: VmLayout | undefined;
  format: ArchiveFormat;
  options: TargetOptions;
  outDir: string;
  cacheRoot: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onEvent?(e: StepEvent): void;
  log(line: string): void;
}

interface WindowsBuildState extends WindowsBuildInput {
  layout: VmLayout;
  release: WindowsRelease;
  method: WindowsMethod;
  baseDisk?: string;
  kits: LocatedKit[];
  workDir?: string;
  images?: DiskImage[];
  partial?: string;
  archive?: string;
}

/** OS-ID.vmdk (or .qcow2, .raw, .img) in the base disk directory. */
export async function findBaseDisk(dir: string | undefined, osId: string): Promise<string> {
  if (dir === undefined) {
    throw new VmgenError('VMG_UNSUPPORTED', `building a ${osId} guest needs the admin's base disk directory`, { hint: `pass --base-disks DIR or set ${BASE_DISKS_DIR_ENV}` });
  }
  const names = new Set(await readdir(dir).catch(() => [] as string[]));
  const found = BASE_DISK_EXTENSIONS.map((ext) => `${osId}.${ext}`).find((n) => names.has(n));
  if (found === undefined) {
    throw new VmgenError('VMG_UNSUPPORTED', `no base disk for ${osId} in ${dir} (looked for ${BASE_DISK_EXTENSIONS.map((e) => `${osId}.${e}`).join(', ')})`, {
      hint: 'install Windows once on a disk with one NTFS partition and put the disk there',
    });
  }
  return join(dir, found);
}

/** config.bat, setup.bat and the kits (each kit once, however many apps share it). */
function guestPayload(state: WindowsBuildState): GuestPayload[] {
  return [
    ...windowsPlan({ spec: state.spec, nicOwner: 'guest' }).files,
    ...windowsInstallerFiles(state.spec, state.catalogs),
    ...[...new Map(state.kits.map((k) => [k.kit.setupFile, k.source])).entries()].map(([name, source]) => ({ path: `${GUEST_KITS_DIR}/${name}`, source })),
  ];
}

/** The layout with the answer ISO in the first free IDE position, shipped in the archive. */
export function withAnswerDrive(layout: VmLayout, iso: string): VmLayout {
  const taken = new Set([...layout.disks, ...layout.cdDrives].filter((d) => d.controller === 'ide').map((d) => `${d.bus}:${d.unit}`));
  const free = ['0:0', '0:1', '1:0', '1:1'].find((p) => !taken.has(p));
  if (free === undefined) throw new VmgenError('VMG_UNSUPPORTED', 'no free IDE position for the answer media CD drive', { hint: 'move a CD drive or disk to another controller' });
  const [bus, unit] = free.split(':').map(Number) as [number, number];
  return { ...layout, cdDrives: [...layout.cdDrives, { name: 'answer', controller: 'ide', bus, unit, path: iso, copy: true, connected: true }] };
}

const STEPS: readonly Step<WindowsBuildState>[] = [
  {
    name: 'check host tools',
    run: ({ state }) => {
      const packing = state.target.commander.hostTools?.(state.format) ?? archiveTools(state.format);
      checkHostTools([...new Set([...WINDOWS_TOOLS[state.method], ...packing])], { needRoot: false });
    },
  },
  {
    name: 'hardware: target configuration',
    run: ({ state }) => {
      const r = state.target.commander.render(state.spec, state.options, state.layout);
      state.log(`${state.target.label}: ${r.archiveFiles.map((f) => f.path).join(', ')}`);
    },
  },
  {
    name: 'start: work directory',
    run: async ({ state, defer }) => {
      const cache = new LayerCache(state.cacheRoot);
      const workDir = await cache.newWorkDir(`build-${state.spec.name}`);
      state.workDir = workDir;
      defer(() => rm(workDir, { recursive: true, force: true }));
      await mkdir(join(workDir, 'disks'), { recursive: true });
    },
  },
  {
    name: 'partitions: clone the base disk, write the scripts and kits',
    applies: (s) => s.method === 'base-disk',
    run: async ({ state, signal }) => {
      const disks = join(state.workDir!, 'disks');
      const files = guestPayload(state);
      const outputs = state.layout.disks.map((d) => join(disks, `${d.file}.img`));
      const result = await buildFromBaseDisk({
        baseDisk: state.baseDisk!, layout: state.layout, release: state.release, files, workDir: disks, format: 'raw', outputs, signal, log: state.log,
      });
      state.log(`written into the system volume: ${result.written.join(', ')}`);
      state.images = state.layout.disks.map((d, i) => ({ disk: d.name, path: result.outputs[i]!, format: 'raw' }));
    },
  },
  {
    name: 'partitions: blank disks and the answer media for Windows Setup',
    applies: (s) => s.method === 'autounattend',
    run: async ({ state, signal }) => {
      const disks = join(state.workDir!, 'disks');
      const sig = { signal };
      state.images = [];
      for (const d of state.layout.disks) {
        const path = join(disks, `${d.file}.img`);
        await writeFile(path, '');
        await truncate(path, d.sizeMiB * 1024 * 1024);
        state.images.push({ disk: d.name, path, format: 'raw' });
      }
      // The answer media: autounattend.xml at its root (where Setup looks), scripts and kits under vmgen\.
      const media = join(state.workDir!, 'answer');
      await mkdir(join(media, WINDOWS_DIR.slice(1)), { recursive: true });
      await writeFile(join(media, 'autounattend.xml'), renderAutounattend(state.spec, state.layout, platformOffered(state.target.commander.platformSecurity, state.layout)));
      for (const f of guestPayload(state)) {
        const dest = join(media, f.path.slice(1));
        await mkdir(dirname(dest), { recursive: true });
        if ('source' in f) await copyFile(f.source, dest);
        else await writeFile(dest, f.content);
      }
      const iso = join(state.workDir!, `${state.spec.name}-answer.iso`);
      await run(['xorriso', '-as', 'mkisofs', '-quiet', '-J', '-r', '-V', 'VMGEN_ANSWER', '-o', iso, media], sig);
      state.layout = withAnswerDrive(state.layout, iso);
      state.log(`answer media ${basename(iso)}: autounattend.xml, ${guestPayload(state).map((f) => f.path.slice(1)).join(', ')}`);
    },
  },
  {
    name: 'stop and archive',
    run: async ({ state, signal, defer, progress }) => {
      const partial = await partialArchivePath(state.outDir, state.spec.name);
      state.partial = partial;
      defer(() => rm(partial, { force: true }));
      const stageDir = join(state.workDir!, 'stage');
      await mkdir(stageDir, { recursive: true });
      await state.target.commander.package({
        vm: { layout: state.layout, images: state.images! }, spec: state.spec, options: state.options, stageDir, output: partial,
        format: state.format, signal, progress,
      });
    },
  },
  {
    name: 'publish',
    run: async ({ state }) => {
      const final = archivePath(state.outDir, state.spec.name, state.target.id, state.format);
      await publishArchive(state.partial!, final);
      state.archive = final;
    },
  },
];

/**
 * Builds a Windows guest. Everything that can be missing (the target kind, the base disk, a kit)
 * is checked before the first step, so a missing kit fails the build before any work.
 */
export async function buildWindows(input: WindowsBuildInput): Promise<{ archive: string; kits: LocatedKit[]; method: WindowsMethod; baseDisk?: string }> {
  const { spec } = input;
  const release = windowsRelease(spec.os);
  if (input.target.kind !== 'vm' || input.layout === undefined) {
    throw new VmgenError('VMG_UNSUPPORTED', `Windows guests are virtual machines; ${input.target.label} holds Linux containers`, { hint: 'build with -t vmware, qemu or virtualbox' });
  }
  const kitsDir = input.options.kitsDir ?? input.env[KITS_DIR_ENV];
  const kits = await locateKits(windowsKits(spec, input.catalogs), kitsDir === undefined || kitsDir === '' ? undefined : resolve(kitsDir));
  const baseDir = input.options.baseDisksDir ?? input.env[BASE_DISKS_DIR_ENV];
  const found = findBaseDisk(baseDir === undefined || baseDir === '' ? undefined : resolve(baseDir), spec.os.id);
  // Without a base disk, a release Windows Setup installs unattended is installed from its ISO.
  const baseDisk = release.autounattend ? await found.catch(() => undefined) : await found;
  if (baseDisk === undefined) renderAutounattend(spec, input.layout, platformOffered(input.target.commander.platformSecurity, input.layout)); // refuses what the answer file cannot say, before any step
  const method: WindowsMethod = baseDisk === undefined ? 'autounattend' : 'base-disk';
  input.log(method === 'base-disk' ? `base disk: ${baseDisk}` : 'no base disk: Windows Setup installs from the ISO in cd_drives with autounattend.xml');
  const state: WindowsBuildState = { ...input, layout: input.layout, release, method, kits, ...(baseDisk === undefined ? {} : { baseDisk }) };
  await runPipeline(STEPS, state, { ...(input.signal ? { signal: input.signal } : {}), ...(input.onEvent ? { onEvent: input.onEvent } : {}) });
  return { archive: state.archive!, kits, method, ...(baseDisk === undefined ? {} : { baseDisk }) };
}

/** The entry in build.ts's table of family builds: a BuildResult whose "layer" says there is none. */
export async function windowsFamilyBuild(opts: BuildOptions, ctx: FamilyBuildContext): Promise<BuildResult> {
  const r = await buildWindows({
    spec: ctx.spec, catalogs: opts.catalogs, target: ctx.target, layout: ctx.layout, format: ctx.format,
    options: opts.targetOptions ?? {}, outDir: resolve(opts.outDir), cacheRoot: opts.cacheRoot, env: process.env,
    ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onEvent ? { onEvent: opts.onEvent } : {}), log: opts.log ?? (() => {}),
  });
  return {
    archive: r.archive,
    spec: ctx.spec,
    layer: {
      rootfs: '', key: r.baseDisk === undefined ? 'autounattend' : `base-disk:${r.baseDisk}`, packageToolRuns: 0,
      events: [
        r.baseDisk === undefined ? 'no root file system layer: blank disks, installed by Windows Setup with autounattend.xml' : `no root file system layer: the disks were cloned from ${r.baseDisk}`,
        ...r.kits.map((k) => `kit ${k.kit.setupFile} for ${k.app}`),
      ],
    },
  };
}
