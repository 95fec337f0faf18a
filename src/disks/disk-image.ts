import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rmdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { filesystem } from '../catalog/filesystems.js';
import { VmgenError } from '../errors.js';
import { CommandError, run } from '../exec/run.js';
import { spawnStream } from '../exec/stream.js';
import { kernelCmdline } from './boot-config.js';
import { BOOT_LOADER_TOOLS, findKernel, installExtlinux, installSystemdBoot, systemdBootBinary, writeBootCode } from './boot-loaders.js';
import { copyIntoFat, Releases, tool, type AttachedPartition, type DiskImageContext, type DiskToolContext } from './disk-tools.js';
import { chooseUuids, partitionKey, renderVmFstab } from './fstab.js';
import type { VmDisk, VmLayout, VmPartition } from './layout.js';
import { isEsp, planPartitions, sfdiskScript } from './partition-plan.js';

export interface BuiltDiskImage {
  disk: string;
  path: string;
  /** File system ids by `disk/partition`, as blkid prints them and the guest's fstab names them. */
  uuids: Record<string, string>;
}

const MIB = 1024 * 1024;
/** Partitioning, attaching, mounting and copying the root file system in, whatever the layout. */
const ASSEMBLY_TOOLS = ['sfdisk', 'losetup', 'partx', 'mount', 'umount', 'tar'] as const;

/** The host tools buildDiskImages runs for this layout: each partition's mkfs argv, as makeFilesystem runs it. */
export function diskImageTools(layout: VmLayout): string[] {
  const partitions = layout.disks.flatMap((d) => d.partitions);
  const mkfs = partitions.flatMap((p) => mkfsArgv(p, '00000000-0000-4000-8000-000000000000', '/dev/null', p.sizeMiB ?? FAT32_MIN_MIB).map((argv) => argv[0]));
  // vfat partitions other than the ESP are filled with mcopy too.
  const fat = partitions.some((p) => p.fs === 'vfat' && p.mount !== undefined) ? ['mcopy'] : [];
  return [...new Set([...ASSEMBLY_TOOLS, ...mkfs, ...BOOT_LOADER_TOOLS[layout.firmware], ...fat])];
}

/**
 * Turns a configured root file system into one bootable raw image per disk of the layout: BIOS
 * with extlinux, UEFI with systemd-boot. Needs root (loop devices and mounts). Every loop device
 * and mount is released before this returns, failed or not; what could not be released is retried
 * by the cleanup registered with `defer`.
 */
export async function buildDiskImages(ctx: DiskImageContext & { uuids?: Record<string, string> }): Promise<BuiltDiskImage[]> {
  if (process.getuid?.() !== 0) {
    throw new VmgenError('VMG_TOOL_MISSING', 'building VM disk images needs root (loop devices and mounts)', { hint: 'run vmgen build as root, e.g. with sudo' });
  }
  const releases = new Releases();
  ctx.defer(() => releases.releaseAll());
  try {
    const images = await assemble(ctx, releases);
    // Released before returning: an image is only complete once its file systems are unmounted.
    await releases.releaseAll();
    return images;
  } catch (error) {
    await releases.releaseAll().catch((e: unknown) => ctx.log(`cleanup deferred: ${e instanceof Error ? e.message : String(e)}`));
    throw error;
  }
}

async function assemble(ctx: DiskImageContext & { uuids?: Record<string, string> }, releases: Releases): Promise<BuiltDiskImage[]> {
  // Everything that can be known wrong is checked before the first image is written.
  checkLayout(ctx.layout);
  const kernel = await findKernel(ctx.rootfs);
  const efiBinary = ctx.layout.firmware === 'efi' ? systemdBootBinary(ctx) : undefined;
  const uuids = ctx.uuids ?? chooseUuids(ctx.layout);
  const disks: PreparedDisk[] = [];
  for (const disk of ctx.layout.disks) disks.push(await prepareDisk(ctx, disk, uuids, releases));
  const attached = disks.flatMap((d) => d.partitions);
  // UEFI boots from the boot disk's ESP, which systemd-boot's step fills; any other FAT is plain data.
  const esp = ctx.layout.firmware === 'efi' ? attached.find((a) => a.disk.boot && isEsp(a.partition)) : undefined;
  const mnt = await mountTree(ctx, attached, releases);
  await copyRootfs(ctx, mnt, attached);
  await writeFile(join(mnt, 'etc', 'fstab'), renderVmFstab(ctx.layout, uuids), { mode: 0o644 });
  await copyFatContents(ctx, attached.filter((a) => a.partition.fs === 'vfat' && a !== esp));
  const cmdline = kernelCmdline({ rootUuid: attached.find((a) => a.partition.mount === '/')!.id });
  if (ctx.layout.firmware === 'bios') await installExtlinux(ctx, mnt, kernel, cmdline);
  else await installSystemdBoot(ctx, esp!, efiBinary!, kernel, cmdline, releases);
  return disks.map((d) => d.image);
}

interface PreparedDisk {
  image: BuiltDiskImage;
  partitions: AttachedPartition[];
}

/** One disk as an attached image whose partitions carry their file systems, still empty. */
async function prepareDisk(ctx: DiskImageContext, disk: VmDisk, uuids: Record<string, string>, releases: Releases): Promise<PreparedDisk> {
  const path = join(ctx.workDir, `${disk.file}.raw`);
  ctx.log(`disk ${disk.name}: ${disk.sizeMiB} MiB ${disk.table}, ${disk.partitions.length} partition(s) → ${path}`);
  await createImage(ctx, disk, path);
  const loop = await attach(ctx, path, releases);
  const plan = planPartitions(disk, ctx.layout.firmware).filter((entry) => entry.partition !== undefined);
  const nodes = await partitionNodes(ctx, loop, plan.map((entry) => entry.number), releases);
  const partitions: AttachedPartition[] = [];
  for (const { partition, number, sizeMiB } of plan) {
    const part = { disk, partition: partition!, device: nodes.get(number)!, id: uuids[partitionKey(disk, partition!)]!, sizeMiB };
    await makeFilesystem(ctx, part);
    partitions.push(part);
  }
  const ids = Object.fromEntries(disk.partitions.map((p) => [partitionKey(disk, p), uuids[partitionKey(disk, p)]!]));
  return { image: { disk: disk.name, path, uuids: ids }, partitions };
}

function checkLayout(layout: VmLayout): void {
  const partitions = layout.disks.flatMap((d) => d.partitions);
  if (!partitions.some((p) => p.mount === '/' && filesystem(p.fs).mountable)) {
    throw new VmgenError('VMG_UNSUPPORTED', 'no partition holds the root file system on ext2/3/4 or xfs', { hint: "give one partition 'mount = /' and 'fs = ext4'" });
  }
  if (layout.firmware === 'efi' && !layout.disks.some((d) => d.boot && d.partitions.some(isEsp))) {
    throw new VmgenError('VMG_CONFIG_INVALID', 'UEFI boot needs an EFI system partition (vfat, mount = /boot/efi) on the boot disk');
  }
}

/** A sparse file of the disk's size, partitioned, with the BIOS boot code in its first sector. */
async function createImage(ctx: DiskImageContext, disk: VmDisk, path: string): Promise<void> {
  const file = await open(path, 'w');
  try {
    await file.truncate(disk.sizeMiB * MIB);
  } finally {
    await file.close();
  }
  await tool(ctx, ['sfdisk', '--quiet', '--no-reread', '--no-tell-kernel', path], { input: sfdiskScript(disk, ctx.layout.firmware) });
  // Before the loop device exists, so no block device cache holds an older first sector.
  if (disk.boot && ctx.layout.firmware === 'bios') await writeBootCode(path, disk.table === 'gpt' ? 'gptmbr.bin' : 'mbr.bin');
}

export async function attach(ctx: DiskToolContext, path: string, releases: Releases): Promise<string> {
  const loop = (await tool(ctx, ['losetup', '--find', '--show', '--partscan', path])).trim();
  releases.add(`loop device ${loop}`, async () => {
    await run(['losetup', '--detach', loop]);
  });
  ctx.log(`attached ${path} as ${loop}`);
  return loop;
}

function isBlockDevice(path: string): boolean {
  return existsSync(path) && statSync(path).isBlockDevice();
}

/** Where udev makes the nodes, they may lag the kernel's scan by a moment. */
async function waitForNode(device: string, ms: number): Promise<boolean> {
  for (let waited = 0; !isBlockDevice(device); waited += 50) {
    if (waited >= ms) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/**
 * The partition devices of an attached image. --partscan needs the kernel's own MBR and GPT
 * parsers, which some kernels lack (this project's build machines); then partx reads the table
 * in user space and adds the partitions.
 */
export async function partitionNodes(ctx: DiskToolContext, loop: string, numbers: number[], releases: Releases): Promise<Map<number, string>> {
  const nodes = new Map(numbers.map((n) => [n, `${loop}p${n}`]));
  if (numbers.length === 0) return nodes;
  // A kernel scan registers the partitions before losetup returns; sysfs shows them at once.
  if (!existsSync(join('/sys/class/block', `${basename(loop)}p${numbers[0]}`))) {
    ctx.log(`the kernel did not scan ${loop}'s partition table; adding the partitions with partx`);
    await tool(ctx, ['partx', '--add', loop]);
    releases.add(`partitions of ${loop}`, async () => {
      await run(['partx', '--delete', loop]);
    });
  }
  for (const device of nodes.values()) {
    if (!(await waitForNode(device, 5000))) throw new VmgenError('VMG_BUILD', `${device} did not appear after attaching ${loop}`);
  }
  return nodes;
}

/** FAT32 needs about 33 MiB; UEFI asks an ESP to be FAT32 where it can be. */
const FAT32_MIN_MIB = 36;

/** The commands that make a partition's file system with its chosen id. Pure: tested without a disk. */
export function mkfsArgv(p: VmPartition, id: string, device: string, sizeMiB: number): Array<[string, ...string[]]> {
  const { mkfs, labelMax } = filesystem(p.fs);
  // Labels longer than a file system allows would make its mkfs fail; they are cut instead.
  const label = p.label?.slice(0, labelMax);
  const labelArgs = (flag: string): string[] => (label === undefined ? [] : [flag, label]);
  switch (p.fs) {
    case 'ext2': case 'ext3': case 'ext4':
      return [[mkfs, '-F', '-q', '-U', id, ...labelArgs('-L'), device]];
    case 'xfs':
      return [[mkfs, '-f', '-q', '-m', `uuid=${id}`, ...labelArgs('-L'), device]];
    case 'swap':
      return [[mkfs, '-U', id, ...labelArgs('-L'), device]];
    case 'vfat':
      return [[mkfs, ...(isEsp(p) && sizeMiB >= FAT32_MIN_MIB ? ['-F', '32'] : []), '-i', id.replace('-', ''), ...labelArgs('-n'), device]];
    case 'ntfs':
      // mkfs.ntfs cannot take a serial; ntfslabel sets the one blkid reports as UUID.
      return [[mkfs, '-Q', '-F', '-q', ...labelArgs('-L'), device], ['ntfslabel', `--new-serial=${id}`, device]];
  }
}

async function makeFilesystem(ctx: DiskImageContext, a: AttachedPartition): Promise<void> {
  ctx.log(`${partitionKey(a.disk, a.partition)}: ${a.partition.fs} on ${a.device}`);
  for (const argv of mkfsArgv(a.partition, a.id, a.device, a.sizeMiB)) {
    try {
      await tool(ctx, argv);
    } catch (err) {
      if (!(err instanceof CommandError) || ctx.signal.aborted) throw err;
      throw new VmgenError('VMG_BUILD', `cannot make ${a.partition.fs} on ${partitionKey(a.disk, a.partition)} (${a.sizeMiB} MiB): ${err.stderr.trim().split('\n')[0] ?? ''}`, {
        hint: a.partition.fs === 'xfs' ? 'xfs needs at least 300 MiB' : 'check the partition size', cause: err,
      });
    }
  }
}

/** Mount points deeper in the tree come after their parents: / before /var before /var/log. */
function byDepth(a: AttachedPartition, b: AttachedPartition): number {
  const depth = (x: AttachedPartition): number => (x.partition.mount === '/' ? 0 : x.partition.mount!.split('/').length);
  return depth(a) - depth(b);
}

/** The guest's tree of Linux file systems below a fresh directory; releases unmount deepest first. */
export async function mountTree(ctx: DiskToolContext, attached: AttachedPartition[], releases: Releases): Promise<string> {
  // checkLayout made sure the first one is /.
  const mounted = attached.filter((a) => a.partition.mount !== undefined && filesystem(a.partition.fs).mountable).sort(byDepth);
  const mnt = await mkdtemp(join(ctx.workDir, 'mnt-'));
  // rmdir, never a recursive delete: should an unmount have failed, the guest's files stay untouched.
  releases.add(`directory ${mnt}`, () => rmdir(mnt));
  for (const a of mounted) {
    const target = join(mnt, a.partition.mount!);
    await mkdir(target, { recursive: true });
    await tool(ctx, ['mount', '-t', a.partition.fs, a.device, target]);
    releases.add(`mount ${target}`, () => unmount(target, ctx.log));
  }
  return mnt;
}

async function unmount(target: string, log: (line: string) => void): Promise<void> {
  try {
    await run(['umount', target]);
  } catch (err) {
    // Lazy as a last resort: nothing of ours is still writing, and a mount must not outlive the build.
    log(`umount ${target} failed (${err instanceof Error ? err.message : String(err)}); detaching it lazily`);
    await run(['umount', '--lazy', target]);
  }
}

/** tar's exclude patterns are globs: a mount point with glob characters must match only itself. */
function globLiteral(path: string): string {
  return path.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}

/**
 * tar, not cp: owners by number (the host's names mean nothing to the guest), ACLs, xattrs (file
 * capabilities such as ping's) and hard links survive. The contents of vfat and ntfs mount points
 * are left out: they are not mounted, and vfat ones are filled with mtools.
 */
async function copyRootfs(ctx: DiskImageContext, mnt: string, attached: AttachedPartition[]): Promise<void> {
  const unmounted = attached.filter((a) => a.partition.mount !== undefined && !filesystem(a.partition.fs).mountable).map((a) => a.partition.mount!);
  await warnUnwritten(ctx, attached);
  const excludes = unmounted.map((m) => `--exclude=.${globLiteral(m)}/*`);
  const common = ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls'];
  ctx.log(`copying ${ctx.rootfs} into the guest's file systems`);
  const source = spawnStream(['tar', '-C', ctx.rootfs, ...common, '--one-file-system', '--anchored', ...excludes, '-cf', '-', '.'], { signal: ctx.signal });
  const target = spawnStream(['tar', '-C', mnt, ...common, '-xpf', '-'], { signal: ctx.signal });
  const [piped, read, written] = await Promise.allSettled([pipeline(source.stdout, target.stdin), source.done, target.done]);
  // The extracting side says why (a full partition); the others then only saw a broken pipe.
  for (const result of [written, read, piped]) if (result.status === 'rejected') throw copyError(result.reason);
  for (const m of unmounted) await mkdir(join(mnt, m), { recursive: true, mode: 0o755 });
}

/** vmgen formats ntfs but copies nothing onto it; files the guest has there would vanish silently. */
async function warnUnwritten(ctx: DiskImageContext, attached: AttachedPartition[]): Promise<void> {
  for (const a of attached) {
    if (a.partition.fs !== 'ntfs' || a.partition.mount === undefined) continue;
    const files = await readdir(join(ctx.rootfs, a.partition.mount)).catch(() => []);
    if (files.length > 0) ctx.log(`${a.partition.mount} is ntfs, which vmgen does not fill: its ${files.length} entries in the root file system are left out`);
  }
}

export function copyError(reason: unknown): unknown {
  // tar says "Wrote only N of M bytes" when a write falls short, which on a full file system it does.
  if (reason instanceof CommandError && /No space left on device|Wrote only \d+ of \d+ bytes/.test(reason.stderr)) {
    return new VmgenError('VMG_BUILD', 'the guest\'s files do not fit in its partitions', {
      hint: 'make the root partition (or the one that ran out of space) bigger', cause: reason,
    });
  }
  return reason;
}

/** What the root file system holds below a vfat mount point goes into that partition. */
async function copyFatContents(ctx: DiskImageContext, fats: AttachedPartition[]): Promise<void> {
  for (const a of fats) if (a.partition.mount !== undefined) await copyIntoFat(ctx, a.device, join(ctx.rootfs, a.partition.mount));
}
