import { open, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../exec/run.js';
import { VmgenError } from '../../errors.js';
import { SELF_DELETE, batchFile } from './batch.js';
import { CONFIG_BAT, SETUP_BAT, WINDOWS_DIR } from './configure.js';
import type { WindowsRelease } from './releases.js';
import type { VmDisk, VmLayout } from '../../disks/layout.js';
import { type PlannedPartition, planPartitions } from '../../disks/partition-plan.js';

/*
 * The seed's base-disk method (section 4.2): an admin installs Windows once on a disk with one NTFS
 * partition; each machine gets a new disk in its own layout with that partition cloned into its
 * first NTFS partition (ntfsclone), grown or shrunk to fit (ntfsresize), the base's MBR boot code
 * (the first 446 bytes) copied, and the scripts and kits written into the volume with ntfscp, so
 * the guest runs them at its first logon. Nothing is mounted: everything works on image files.
 *
 * ntfscp cannot make directories, so files are written to the volume's root under stage names and
 * the first-logon runner (in the All Users Startup folder, which an installed Windows has) moves
 * them to C:\vmgen before running config.bat and setup.bat.
 */

const SECTOR = 512;
const MIB = 1024 * 1024;
/** MBR partition type of NTFS, and the GPT type Windows gives NTFS data partitions. */
const NTFS_TYPES = new Set(['7', 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7']);
const BOOT_CODE_BYTES = 446;
export const RUNNER_BAT = 'vmgen-firstboot.bat';

export type GuestPayload = { path: string; content: string | Uint8Array } | { path: string; source: string };

export interface BaseDiskOptions {
  /** The admin's base disk: raw, vmdk or qcow2 (qemu-img detects which). */
  baseDisk: string;
  layout: VmLayout;
  release: WindowsRelease;
  /** Files for the guest, paths from the system volume's root with '/' (config.bat, setup.bat, kits). */
  files: readonly GuestPayload[];
  workDir: string;
  /** Target disk format; raw writes the assembled image as is. */
  format: 'vmdk' | 'qcow2' | 'raw';
  /** One output path per layout disk, in layout order. */
  outputs: readonly string[];
  signal?: AbortSignal;
  log?(line: string): void;
}

interface SfdiskPartition { node: string; start: number; size: number; type: string }

/** The base's one NTFS partition, from `sfdisk --json`. */
export function findBasePartition(sfdiskJson: string): SfdiskPartition {
  const table = (JSON.parse(sfdiskJson) as { partitiontable?: { partitions?: SfdiskPartition[] } }).partitiontable;
  const ntfs = (table?.partitions ?? []).filter((p) => NTFS_TYPES.has(p.type.toLowerCase()));
  if (ntfs.length !== 1) {
    throw new VmgenError('VMG_UNSUPPORTED', `the base disk has ${ntfs.length} NTFS partitions; the base-disk method clones exactly one`, {
      hint: 'install the base Windows on one partition (no separate "System Reserved" partition)',
    });
  }
  return ntfs[0]!;
}

/** The disk's sfdisk input, the Windows partition marked active (the MBR boot code boots it). */
export function windowsSfdiskScript(disk: VmDisk, plan: readonly PlannedPartition[], system: PlannedPartition | undefined): string {
  const lines = plan.map((e) => {
    const fields = [`start=${e.startMiB * (MIB / SECTOR)}`, `size=${e.sizeMiB * (MIB / SECTOR)}`, `type=${e.type}`];
    if (disk.table === 'gpt' && e.partition) fields.push(`name="${e.partition.name.replace(/[^A-Za-z0-9._+-]/g, '_')}"`);
    if (e === system && disk.table === 'mbr') fields.push('bootable');
    return fields.join(', ');
  });
  return `label: ${disk.table === 'gpt' ? 'gpt' : 'dos'}\nunit: sectors\nsector-size: 512\n\n${lines.join('\n')}\n`;
}

/**
 * NTFS boot sectors record where their partition starts ("hidden sectors", offset 0x1C); the boot
 * code reads the rest of the loader from there, so a clone moved elsewhere must say its new place.
 * The backup boot sector, in the last sector of the volume, gets the same value.
 */
export async function setHiddenSectors(volume: string, startSector: number): Promise<void> {
  const fh = await open(volume, 'r+');
  try {
    const boot = Buffer.alloc(SECTOR);
    await fh.read(boot, 0, SECTOR, 0);
    if (boot.toString('latin1', 3, 11) !== 'NTFS    ') throw new VmgenError('VMG_BUILD', 'the cloned partition has no NTFS boot sector');
    const bytesPerSector = boot.readUInt16LE(0x0b);
    const totalSectors = Number(boot.readBigUInt64LE(0x28));
    const value = Buffer.alloc(4);
    value.writeUInt32LE(startSector);
    await fh.write(value, 0, 4, 0x1c);
    const backup = Buffer.alloc(SECTOR);
    const { bytesRead } = await fh.read(backup, 0, SECTOR, totalSectors * bytesPerSector);
    if (bytesRead === SECTOR && backup.toString('latin1', 3, 11) === 'NTFS    ') await fh.write(value, 0, 4, totalSectors * bytesPerSector + 0x1c);
  } finally {
    await fh.close();
  }
}

const GUEST_PATH = /^(\/[A-Za-z0-9][A-Za-z0-9 ._+-]*)+$/;
const winPath = (p: string): string => `%SystemDrive%${p.replaceAll('/', '\\')}`;

/**
 * The Startup-folder runner: moves the staged files into place, runs config.bat and setup.bat
 * (output in C:\vmgen\*.log), restarts Windows for the new computer name, and deletes itself.
 */
export function firstLogonRunner(staged: ReadonlyArray<{ stage: string; path: string }>): string {
  const dirs = [...new Set(staged.map((s) => s.path.slice(0, s.path.lastIndexOf('/'))).filter((d) => d !== ''))].sort();
  const dir = winPath(WINDOWS_DIR);
  return batchFile([
    '@echo off',
    'rem vmgen: first logon after a base-disk build. Puts the staged files in place, runs the',
    'rem configuration and the installers once, restarts, and removes itself.',
    'setlocal DisableDelayedExpansion',
    ...dirs.map((d) => `if not exist "${winPath(d)}" mkdir "${winPath(d)}"`),
    ...staged.map((s) => `move /y "${winPath(s.stage)}" "${winPath(s.path)}" >nul`),
    `call "${dir}\\${CONFIG_BAT}" > "${dir}\\config.log" 2>&1`,
    `if exist "${dir}\\${SETUP_BAT}" call "${dir}\\${SETUP_BAT}" > "${dir}\\setup.log" 2>&1`,
    'shutdown /r /t 10 /c "vmgen: restarting to apply the computer name"',
    SELF_DELETE,
  ]);
}

async function dd(args: string[], signal?: AbortSignal): Promise<void> {
  await run(['dd', ...args, 'bs=4M', 'conv=notrunc,sparse', 'iflag=skip_bytes,count_bytes', 'oflag=seek_bytes', 'status=none'], signal ? { signal } : {});
}

async function ntfsDirExists(volume: string, dir: string, signal?: AbortSignal): Promise<boolean> {
  return run(['ntfsls', '-f', '-p', dir, volume], signal ? { signal } : {}).then(() => true, () => false);
}

/** Writes every payload file into the volume's root under a stage name, and the runner into Startup. */
async function writePayload(volume: string, opts: BaseDiskOptions, tmp: string): Promise<string[]> {
  const sig = opts.signal ? { signal: opts.signal } : {};
  const startup = `/${opts.release.startupDir}`;
  if (!(await ntfsDirExists(volume, startup, opts.signal))) {
    throw new VmgenError('VMG_UNSUPPORTED', `the base disk's Windows has no ${startup} folder, where vmgen puts its first-logon runner`, {
      hint: 'is the base disk an installed Windows of the release the config names?',
    });
  }
  const staged: Array<{ stage: string; path: string }> = [];
  for (const [i, f] of opts.files.entries()) {
    if (!GUEST_PATH.test(f.path) || f.path.split('/').some((c) => c === '.' || c === '..')) {
      throw new VmgenError('VMG_INTERNAL', `not a guest path vmgen writes: ${JSON.stringify(f.path)}`);
    }
    const stage = `/vmgen-stage-${i + 1}`;
    let source: string;
    if ('source' in f) source = f.source;
    else {
      source = join(tmp, `payload-${i + 1}`);
      await writeFile(source, f.content, { mode: 0o600 });
    }
    await run(['ntfscp', '-f', '-q', volume, source, stage], sig);
    staged.push({ stage, path: f.path });
  }
  const runner = join(tmp, RUNNER_BAT);
  await writeFile(runner, firstLogonRunner(staged));
  await run(['ntfscp', '-f', '-q', volume, runner, `${startup}/${RUNNER_BAT}`], sig);
  return [...staged.map((s) => s.path), `${startup}/${RUNNER_BAT}`];
}

async function formatPartition(file: string, fs: string, startSector: number, label: string | undefined, signal?: AbortSignal): Promise<void> {
  const sig = signal ? { signal } : {};
  if (fs === 'ntfs') {
    await run(['mkntfs', '-F', '-Q', '-q', '-p', String(startSector), '-H', '255', '-S', '63', ...(label ? ['-L', label] : []), file], sig);
  } else if (fs === 'vfat') {
    await run(['mkfs.vfat', ...(label ? ['-n', label.slice(0, 11)] : []), file], sig);
  } else {
    throw new VmgenError('VMG_UNSUPPORTED', `Windows guests take NTFS or FAT partitions, not ${fs}`);
  }
}

export interface BaseDiskResult {
  outputs: string[];
  /** Guest paths written into the system volume. */
  written: string[];
}

/** Makes every disk of the layout, the boot disk from the base disk; see the module comment. */
export async function buildFromBaseDisk(opts: BaseDiskOptions): Promise<BaseDiskResult> {
  const log = opts.log ?? (() => {});
  const sig = opts.signal ? { signal: opts.signal } : {};
  if (opts.layout.firmware !== 'bios') {
    throw new VmgenError('VMG_UNSUPPORTED', 'the base-disk method clones BIOS installations (MBR boot code); UEFI guests are installed with autounattend.xml');
  }
  if (opts.outputs.length !== opts.layout.disks.length) throw new VmgenError('VMG_INTERNAL', 'one output per disk');
  const baseRaw = join(opts.workDir, 'base.raw');
  log(`base disk: converting ${opts.baseDisk} to raw`);
  await run(['qemu-img', 'convert', '-O', 'raw', opts.baseDisk, baseRaw], sig);
  const base = findBasePartition((await run(['sfdisk', '--json', baseRaw], sig)).stdout);
  const baseVolume = join(opts.workDir, 'base.ntfs');
  await dd([`if=${baseRaw}`, `of=${baseVolume}`, `skip=${base.start * SECTOR}`, `count=${base.size * SECTOR}`], opts.signal);
  let written: string[] = [];
  const outputs: string[] = [];
  for (const [d, disk] of opts.layout.disks.entries()) {
    const plan = planPartitions(disk, 'bios');
    const system = disk.boot ? plan.find((e) => e.partition?.fs === 'ntfs') : undefined;
    if (disk.boot && system === undefined) {
      throw new VmgenError('VMG_UNSUPPORTED', `disk ${disk.name} has no NTFS partition to clone Windows into`, { hint: 'add a partition with fs = ntfs' });
    }
    if (disk.boot && disk.table !== 'mbr') throw new VmgenError('VMG_UNSUPPORTED', `disk ${disk.name}: a BIOS Windows boots from an MBR disk`);
    const raw = join(opts.workDir, `${disk.file}.raw`);
    await rm(raw, { force: true });
    await writeFile(raw, '');
    await truncate(raw, disk.sizeMiB * MIB);
    await run(['sfdisk', '--quiet', '--no-reread', '--no-tell-kernel', raw], { ...sig, input: windowsSfdiskScript(disk, plan, system) });
    for (const e of plan) {
      if (e.partition === undefined) continue; // the extended partition's container
      const part = join(opts.workDir, `${disk.file}-p${e.number}.img`);
      const bytes = e.sizeMiB * MIB;
      const startSector = e.startMiB * (MIB / SECTOR);
      if (e === system) {
        log(`disk ${disk.name}: cloning the base's NTFS partition into partition ${e.number} (${e.sizeMiB} MiB)`);
        const source = join(opts.workDir, 'source.ntfs');
        await run(['cp', '--sparse=always', baseVolume, source], sig);
        if (base.size * SECTOR > bytes) {
          // Shrinking works only down to the data the base holds; ntfsresize says so if not.
          await run(['ntfsresize', '--force', '--force', '--no-progress-bar', '-s', String(bytes - SECTOR), source], sig);
        }
        await writeFile(part, '');
        await run(['ntfsclone', '--force', '--overwrite', part, source], sig);
        await rm(source, { force: true });
        // ntfsclone leaves the file at the source volume's size; the partition may be larger.
        await truncate(part, bytes);
        await run(['ntfsresize', '--force', '--force', '--no-progress-bar', part], sig).catch((err: unknown) => {
          if (!/already OK|Nothing to do/i.test(String((err as { stderr?: string }).stderr ?? err))) throw err;
        });
        await setHiddenSectors(part, startSector);
        written = await writePayload(part, opts, opts.workDir);
      } else {
        await writeFile(part, '');
        await truncate(part, bytes);
        await formatPartition(part, e.partition.fs, startSector, e.partition.label, opts.signal);
      }
      await dd([`if=${part}`, `of=${raw}`, `seek=${e.startMiB * MIB}`], opts.signal);
      await rm(part, { force: true });
    }
    if (disk.boot) {
      // The boot code only: bytes 446-511 are the new partition table and its signature.
      const code = Buffer.alloc(BOOT_CODE_BYTES);
      const src = await open(baseRaw, 'r');
      try {
        await src.read(code, 0, BOOT_CODE_BYTES, 0);
      } finally {
        await src.close();
      }
      const fh = await open(raw, 'r+');
      try {
        await fh.write(code, 0, BOOT_CODE_BYTES, 0);
      } finally {
        await fh.close();
      }
    }
    const out = opts.outputs[d]!;
    if (opts.format === 'raw') await run(['mv', raw, out], sig);
    else {
      log(`disk ${disk.name}: converting to ${opts.format}`);
      await run(['qemu-img', 'convert', '-f', 'raw', '-O', opts.format, ...(opts.format === 'vmdk' ? ['-o', 'subformat=monolithicSparse'] : []), raw, out], sig);
      await rm(raw, { force: true });
    }
    outputs.push(out);
  }
  await rm(baseRaw, { force: true });
  await rm(baseVolume, { force: true });
  return { outputs, written };
}
