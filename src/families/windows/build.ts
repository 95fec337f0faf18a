import { basename, join, resolve } from 'node:path';
import { readdir } from 'node:fs/promises';
import { VmgenError } from '../../errors.js';
import type { DiskImageRoot } from '../family.js';
import type { BuildInput, DiskImageRootPlan, RootFacts, RootOutput, RootPlanInput } from '../../steps/phases.js';
import type { StepList } from '../../steps/run-steps.js';
import type { VmDisk, VmLayout } from '../../disks/layout.js';
import { platformOffered } from '../platform-security.js';
import { targetsOfKindText } from '../../targets/registry.js';
import type { DiskImage } from '../../targets/types.js';
import { renderAutounattend } from './autounattend.js';
import type { GuestPayload } from './base-disk.js';
import { WINDOWS_DIR, windowsPlan } from './configure.js';
import { GUEST_KITS_DIR, KITS_DIR_ENV, type LocatedKit, locateKits, windowsInstallerFiles, windowsKits } from './kits.js';
import { windowsRelease } from './releases.js';
import { sourceProvisionPayload } from './provision.js';

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

/** config.bat and what it reads beside itself, setup.bat and the kits (each kit once, however many apps share it). */
function guestPayload(input: RootPlanInput, kits: readonly LocatedKit[]): GuestPayload[] {
  return [
    ...windowsPlan({ spec: input.spec, nicOwner: 'guest' }).files,
    ...(input.facts.provision ?? []),
    ...windowsInstallerFiles(input.spec, input.catalogs),
    ...[...new Map(kits.map((k) => [k.kit.setupFile, k.source])).entries()].map(([name, source]) => ({ path: `${GUEST_KITS_DIR}/${name}`, source })),
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

function refuseContainers(target: { kind: 'container' | 'vm'; label: string }, layout?: VmLayout): asserts layout is VmLayout {
  if (target.kind !== 'vm' || layout === undefined) {
    throw new VmgenError('VMG_UNSUPPORTED', `Windows guests are virtual machines; ${target.label} holds Linux containers`, { hint: `build with -t ${targetsOfKindText('vm')}` });
  }
}

/**
 * Everything that can be missing (the target kind, the base disk, a kit) is looked for before the
 * first step, so a missing kit fails the build before any work.
 */
export const findWindowsFacts: DiskImageRoot['findFacts'] = async ({ spec, catalogs, target, options, env, sources }) => {
  const release = windowsRelease(spec.os);
  if (target.kind !== 'vm') refuseContainers(target);
  const kitsDir = options.kitsDir ?? env[KITS_DIR_ENV];
  const kits = await locateKits(windowsKits(spec, catalogs), kitsDir === undefined || kitsDir === '' ? undefined : resolve(kitsDir));
  const baseDir = options.baseDisksDir ?? env[BASE_DISKS_DIR_ENV];
  const found = findBaseDisk(baseDir === undefined || baseDir === '' ? undefined : resolve(baseDir), spec.os.id);
  // Without a base disk, a release Windows Setup installs unattended is installed from its ISO.
  const baseDisk = release.autounattend ? await found.catch(() => undefined) : await found;
  const provision = sourceProvisionPayload(spec, sources);
  const facts: RootFacts = { kits, ...(provision.length === 0 ? {} : { provision }) };
  return baseDisk === undefined ? facts : { ...facts, baseDisk };
};

/**
 * The Windows row's part of a build, between the target's configuration and the archive: a work
 * directory, then the disks by one of the two methods (the other step is shown as skipped).
 */
export function planWindowsRoot(input: RootPlanInput): DiskImageRootPlan {
  const { spec, target, layout } = input;
  const release = windowsRelease(spec.os);
  refuseContainers(target, layout);
  const kits = input.facts.kits ?? [];
  const baseDisk = input.facts.baseDisk;
  const method: WindowsMethod = baseDisk !== undefined || !release.autounattend ? 'base-disk' : 'autounattend';
  const offered = platformOffered(target.commander.platformSecurity, layout);
  // Refuses what the answer file cannot say, before any step.
  const autounattend = method === 'autounattend' ? renderAutounattend(spec, layout, offered) : undefined;
  const payload = (): GuestPayload[] => guestPayload(input, kits);
  const events = [
    baseDisk === undefined ? 'no root file system layer: blank disks, installed by Windows Setup with autounattend.xml' : `no root file system layer: the disks were cloned from ${baseDisk}`,
    ...kits.map((k) => `kit ${k.kit.setupFile} for ${k.app}`),
  ];
  const root = { kind: 'disk-image' as const, method, ...(baseDisk === undefined ? {} : { baseDisk }), events };
  const diskPath = (workDir: string, d: VmDisk): string => join(workDir, 'disks', `${d.file}.img`);
  const images = (workDir: string): DiskImage[] => layout.disks.map((d) => ({ disk: d.name, path: diskPath(workDir, d), format: 'raw' }));

  const steps = (head: StepList<BuildInput>): StepList<BuildInput, BuildInput & RootOutput> => head
    .then({
      name: 'start: work directory',
      run: async ({ state, defer }) => {
        const workDir = await state.driver.newWorkDir(`build-${spec.name}`);
        defer(() => state.driver.remove(workDir));
        await state.driver.makeDir(join(workDir, 'disks'));
        return { workDir, root };
      },
    })
    .then({
      name: 'partitions: clone the base disk, write the scripts and kits',
      tools: WINDOWS_TOOLS['base-disk'],
      skip: method !== 'base-disk',
      run: async ({ state, signal }) => {
        if (baseDisk === undefined) throw new VmgenError('VMG_UNSUPPORTED', `building a ${spec.os.id} guest needs the admin's base disk`, { hint: `pass --base-disks DIR or set ${BASE_DISKS_DIR_ENV}` });
        const made = images(state.workDir);
        const result = await state.driver.cloneBaseDisk({
          baseDisk, layout, release, files: payload(), workDir: join(state.workDir, 'disks'), format: 'raw', outputs: made.map((i) => i.path), signal, log: state.log,
        });
        state.log(`written into the system volume: ${result.written.join(', ')}`);
        return { vm: { layout, images: made.map((i, n) => ({ ...i, path: result.outputs[n] ?? i.path })) } };
      },
    })
    .then({
      name: 'partitions: blank disks and the answer media for Windows Setup',
      tools: WINDOWS_TOOLS.autounattend,
      skip: method !== 'autounattend',
      run: async ({ state, signal }) => {
        const made = images(state.workDir);
        for (const d of layout.disks) await state.driver.blankDisk(diskPath(state.workDir, d), d.sizeMiB * 1024 * 1024);
        // The answer media: autounattend.xml at its root (where Setup looks), scripts and kits under vmgen\.
        const media = join(state.workDir, 'answer');
        await state.driver.makeDir(join(media, WINDOWS_DIR.slice(1)));
        await state.driver.writeFiles(media, [{ path: '/autounattend.xml', content: autounattend ?? renderAutounattend(spec, layout, offered) }, ...payload()]);
        const iso = join(state.workDir, `${spec.name}-answer.iso`);
        await state.driver.makeIso(media, iso, 'VMGEN_ANSWER', signal);
        state.log(`answer media ${basename(iso)}: autounattend.xml, ${payload().map((f) => f.path.slice(1)).join(', ')}`);
        return { vm: { layout: withAnswerDrive(layout, iso), images: made } };
      },
    });

  return {
    kind: 'disk-image', method, needsRoot: false, root, steps,
    notes: [method === 'base-disk' ? `base disk: ${baseDisk ?? '(found at build time)'}` : 'no base disk: Windows Setup installs from the ISO in cd_drives with autounattend.xml'],
  };
}
