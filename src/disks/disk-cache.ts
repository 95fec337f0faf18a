import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { canonicalJson, layerKey } from '../cache/key.js';
import { CONTROLLERS, type Controller } from '../catalog/controllers.js';
import type { LayerCache } from '../cache/store.js';
import { VmgenError } from '../errors.js';
import { run } from '../exec/run.js';
import { mountedUnder } from '../exec/mounts.js';
import type { DiskFormat, DiskImage } from './types.js';
import { attach, buildDiskImages, mountTree, partitionNodes } from './disk-image.js';
import { Releases, tool, type AttachedPartition, type DiskImageContext, type DiskToolContext } from './disk-tools.js';
import { partitionKey, renderVmFstab } from './fstab.js';
import type { VmLayout } from './layout.js';
import { applyOverlayDelta, type OverlayDelta } from './overlay-delta.js';
import { planPartitions } from './partition-plan.js';

/**
 * Disk images cached per layer and disk layout, already in the target's disk format. A build
 * copies them and writes only what it changed on top of the layer into their file systems; VMDK
 * and qcow2 images are opened for that through qemu-storage-daemon's FUSE export (a plain file
 * the loop device can attach), so no build converts a whole disk again.
 */

/** Making, opening and patching cached disk images: conversion, the FUSE export, copies, the delta's tar. */
export const DISK_CACHE_TOOLS = ['qemu-img', 'qemu-storage-daemon', 'cp', 'umount', 'tar'] as const;

/** Bumped whenever the way cached disk images are made changes. */
export const DISK_RECIPE = 1;
const INDEX = 'disks.json';

const indexSchema = z.object({
  format: z.enum(['raw', 'vmdk', 'qcow2']),
  uuids: z.record(z.string(), z.string()),
  files: z.record(z.string(), z.string()),
});

export interface DiskSet {
  /** Its key in the layer cache: what a lab stores the set under, once. */
  key: string;
  dir: string;
  format: DiskFormat;
  /** File system ids by `disk/partition`, the same in every build from this set. */
  uuids: Record<string, string>;
  /** File name in `dir` by disk name. */
  files: Record<string, string>;
}

/** VMware's adapter_type for a disk on this controller. */
export function vmdkAdapter(controller: Controller): string {
  return CONTROLLERS[controller].vmdkAdapter;
}

/**
 * What of a layout shapes its disk images' bytes: not the machine's name (file names), nor where a
 * disk sits on its controller, nor CD drives. A VMDK records its adapter type, so that counts.
 */
export function diskLayoutSignature(layout: VmLayout, format: DiskFormat): unknown {
  return {
    firmware: layout.firmware,
    disks: layout.disks.map((d) => ({
      name: d.name, sizeMiB: d.sizeMiB, table: d.table, boot: d.boot, partitions: d.partitions,
      ...(format === 'vmdk' ? { adapter: vmdkAdapter(d.controller) } : {}),
    })),
  };
}

/** qemu-img's argv for one disk from a raw or cached image; VMware wants the controller's adapter type in the descriptor. */
export function convertArgv(src: string, dest: string, format: 'vmdk' | 'qcow2',
  opts: { from?: DiskFormat; subformat?: 'monolithicSparse' | 'streamOptimized'; adapter?: string } = {}): [string, ...string[]] {
  const o = format === 'vmdk'
    ? [`subformat=${opts.subformat ?? 'monolithicSparse'}`, ...(opts.adapter ? [`adapter_type=${opts.adapter}`] : [])]
    : [];
  return ['qemu-img', 'convert', '-f', opts.from ?? 'raw', '-O', format, ...(o.length ? ['-o', o.join(',')] : []), src, dest];
}

export interface DiskSetContext {
  cache: LayerCache;
  /** The cached layer the build's root file system is an overlay on. */
  layerKey: string;
  layerRootfs: string;
  layout: VmLayout;
  format: DiskFormat;
  signal: AbortSignal;
  log(line: string): void;
  defer(cleanup: () => Promise<void> | void): void;
}

/** The cached disk images of this layer and layout, made from the (unconfigured) layer when missing. */
export async function ensureDiskSet(ctx: DiskSetContext): Promise<{ set: DiskSet; filled: boolean }> {
  const layer = await ctx.cache.get(ctx.layerKey);
  if (!layer) throw new VmgenError('VMG_BUILD', `layer ${ctx.layerKey} vanished from the cache during the build`);
  const parts = {
    ...layer.meta.parts,
    variant: `disks+${canonicalJson({ layer: ctx.layerKey, layout: diskLayoutSignature(ctx.layout, ctx.format), format: ctx.format })}`,
    recipe: DISK_RECIPE,
  };
  const key = layerKey('disks', parts);
  const filled = await ctx.cache.fill(key, { kind: 'disks', parts, baseKey: ctx.layerKey }, (dir, signal) => makeDiskSet(ctx, dir, signal), {
    signal: ctx.signal, onWait: () => ctx.log(`another build is making disk images ${key}; waiting for it`),
  });
  ctx.log(`disk images ${key}: ${filled.filled ? 'made from the layer' : 'cached'}`);
  const index = indexSchema.parse(JSON.parse(await readFile(join(filled.layer.rootfs, INDEX), 'utf8')));
  return { set: { key, dir: filled.layer.rootfs, ...index }, filled: filled.filled };
}

async function makeDiskSet(ctx: DiskSetContext, dir: string, signal: AbortSignal): Promise<void> {
  // Named by disk, not by machine, so every machine with this layer and layout shares them.
  const layout = { ...ctx.layout, disks: ctx.layout.disks.map((d) => ({ ...d, file: d.name })) };
  const images = await buildDiskImages({ layout, rootfs: ctx.layerRootfs, workDir: dir, signal, log: ctx.log, defer: ctx.defer });
  const files: Record<string, string> = {};
  for (const image of images) {
    const disk = layout.disks.find((d) => d.name === image.disk)!;
    if (ctx.format === 'raw') {
      files[disk.name] = `${disk.name}.raw`;
      continue;
    }
    files[disk.name] = `${disk.name}.${ctx.format}`;
    await tool({ signal }, convertArgv(image.path, join(dir, files[disk.name]!), ctx.format, ctx.format === 'vmdk' ? { adapter: vmdkAdapter(disk.controller) } : {}));
    await rm(image.path);
  }
  const uuids = Object.assign({}, ...images.map((i) => i.uuids)) as Record<string, string>;
  await writeFile(join(dir, INDEX), `${JSON.stringify({ format: ctx.format, uuids, files }, null, 2)}\n`);
}

/** qemu's option syntax splits at commas; a literal comma is written twice. */
const qemuOptionValue = (s: string): string => s.replaceAll(',', ',,');

/**
 * A writable raw view of a VMDK or qcow2 image: qemu-storage-daemon exports it over FUSE as a
 * plain file. Released by stopping the daemon, which flushes and closes the image.
 */
async function exportAsFile(ctx: DiskToolContext, image: string, format: 'vmdk' | 'qcow2', releases: Releases): Promise<string> {
  const file = `${image}.export`;
  const pidfile = `${image}.pid`;
  await writeFile(file, '');
  releases.add(`export file ${file}`, () => rm(file, { force: true }));
  await tool(ctx, [
    'qemu-storage-daemon', '--daemonize', '--pidfile', pidfile,
    // no-flush: the copy is as durable as any file the build writes; an fsync here would cost seconds.
    '--blockdev', `driver=file,node-name=file,cache.no-flush=on,filename=${qemuOptionValue(image)}`,
    '--blockdev', `driver=${format},node-name=disk,file=file`,
    '--export', `type=fuse,id=disk,node-name=disk,writable=on,mountpoint=${qemuOptionValue(file)}`,
  ]);
  const pid = Number((await readFile(pidfile, 'utf8')).trim());
  releases.add(`qemu-storage-daemon ${pid} serving ${image}`, async () => {
    await stopDaemon(pid, file);
    await rm(pidfile, { force: true });
  });
  return file;
}

/** Whether a process still runs; a zombie (exited, not yet reaped by whoever adopted it) does not. */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // The state follows the command name in parentheses, which may itself hold spaces or parentheses.
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

async function stopDaemon(pid: number, exportFile: string): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
  // It writes the image's last metadata on the way out: the image is whole only once it has exited.
  for (let waited = 0; await running(pid); waited += 10) {
    if (waited > 30_000) throw new Error(`qemu-storage-daemon ${pid} did not stop`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // A daemonized export can leave its FUSE mount behind, connected to nothing.
  if ((await mountedUnder(exportFile)).includes(exportFile)) await run(['umount', exportFile]);
}

/** Copies of a cached disk set for one build, attached and with their Linux file systems mounted at `mnt`. */
export interface OpenedDisks {
  images: DiskImage[];
  mnt: string;
  set: DiskSet;
  /** Unmounts, detaches and stops the exports; the images are complete once it returns. */
  release(): Promise<void>;
}

export interface OpenContext extends DiskToolContext {
  layout: VmLayout;
  set: DiskSet;
  defer: DiskImageContext['defer'];
}

/**
 * Copies the cached images into the work directory and mounts their file systems. It needs nothing
 * from the guest's configuration, so a build does it while the guest is being configured.
 */
export async function openCachedDisks(ctx: OpenContext): Promise<OpenedDisks> {
  const releases = new Releases();
  ctx.defer(() => releases.releaseAll());
  try {
    const images: DiskImage[] = [];
    const attached: AttachedPartition[] = [];
    for (const disk of ctx.layout.disks) {
      const cached = ctx.set.files[disk.name];
      if (cached === undefined) throw new VmgenError('VMG_BUILD', `cached disk images in ${ctx.set.dir} have no ${disk.name}`);
      const path = join(ctx.workDir, `${disk.file}.${ctx.set.format}`);
      await run(['cp', '--sparse=always', join(ctx.set.dir, cached), path], { signal: ctx.signal });
      images.push({ disk: disk.name, path, format: ctx.set.format });
      const plan = planPartitions(disk, ctx.layout.firmware).filter((e) => e.partition?.mount !== undefined);
      if (plan.length === 0) continue;
      const device = ctx.set.format === 'raw' ? path : await exportAsFile(ctx, path, ctx.set.format, releases);
      const loop = await attach(ctx, device, releases);
      const nodes = await partitionNodes(ctx, loop, plan.map((e) => e.number), releases);
      for (const { partition, number, sizeMiB } of plan) {
        attached.push({ disk, partition: partition!, device: nodes.get(number)!, id: ctx.set.uuids[partitionKey(disk, partition!)]!, sizeMiB });
      }
    }
    const mnt = await mountTree(ctx, attached, releases);
    return { images, mnt, set: ctx.set, release: () => releases.releaseAll() };
  } catch (error) {
    await releases.releaseAll().catch((e: unknown) => ctx.log(`cleanup deferred: ${e instanceof Error ? e.message : String(e)}`));
    throw error;
  }
}

/** Writes what the build changed on top of the layer into opened disks, and closes them. */
export async function patchOpenedDisks(opened: OpenedDisks, ctx: { layout: VmLayout; delta: OverlayDelta; upper: string; signal: AbortSignal; log(line: string): void }): Promise<DiskImage[]> {
  ctx.log(`writing the build's changes into the disk images: ${ctx.delta.copies.length} path(s) copied, ${ctx.delta.deletions.length} removed`);
  await applyOverlayDelta(ctx.delta, ctx.upper, opened.mnt, ctx.signal);
  // The guest configurator writes a container's fstab; a VM's names its file systems.
  if (ctx.delta.copies.includes('etc/fstab') || ctx.delta.deletions.includes('etc/fstab')) {
    await writeFile(join(opened.mnt, 'etc', 'fstab'), renderVmFstab(ctx.layout, opened.set.uuids), { mode: 0o644 });
  }
  await opened.release();
  return opened.images;
}
