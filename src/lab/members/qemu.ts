import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../exec/run.js';
import { ovmfBuild, qemuCommander, runShOvmf } from '../../targets/qemu/commander.js';
import { convertImages, placeIsos } from '../../targets/vm/common.js';
import { labBaseId } from '../manifest.js';
import { labQemuFiles } from './qemu-files.js';
import type { BuildBase, DiskImage } from '../../targets/types.js';
import type { VmLayout } from '../../disks/layout.js';
import type { MemberBase, MemberPackRow } from './types.js';
import { wholeMember } from './whole.js';

/**
 * The machine's disk as a qcow2 holding only the clusters that differ from its base. The build's
 * image is a patched full copy of the cached disk (not an overlay), so `qemu-img convert -B` would
 * copy every allocated cluster: convert writes what the source's top layer holds and compares
 * nothing. A safe `rebase` compares: an empty overlay over the build's image, rebased onto the base,
 * receives exactly the clusters in which the two differ. Then the backing file is renamed to where
 * the lab's archive has the base, relative to the machine's directory (rebase -u: nothing is read).
 */
export function memberDiskArgv(image: { path: string; format: string }, base: string, relativeBase: string, dest: string): Array<[string, ...string[]]> {
  return [
    ['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', image.path, '-F', image.format, dest],
    ['qemu-img', 'rebase', '-f', 'qcow2', '-b', base, '-F', 'qcow2', dest],
    ['qemu-img', 'rebase', '-u', '-f', 'qcow2', '-b', relativeBase, '-F', 'qcow2', dest],
  ];
}

/** Each disk as a delta over its cached disk set (memberDiskArgv), and the set as the member's base. */
async function deltaDisks(images: readonly DiskImage[], layout: VmLayout, disks: NonNullable<BuildBase['disks']>, machineDir: string, signal: AbortSignal):
  Promise<{ files: Record<string, string>; base: MemberBase }> {
  const id = labBaseId(disks.key);
  const files: Record<string, string> = {};
  for (const image of images) {
    const disk = layout.disks.find((d) => d.name === image.disk)!;
    const baseFile = disks.files[disk.name]!;
    files[disk.name] = `${disk.file}.qcow2`;
    for (const argv of memberDiskArgv(image, join(disks.dir, baseFile), `../../bases/${id}/${baseFile}`, join(machineDir, files[disk.name]!))) await run(argv, { signal });
  }
  return { files, base: { id, layerKey: disks.key, source: disks.dir, entries: Object.values(disks.files) } };
}

/**
 * A qemu member: each disk as a qcow2 holding only the clusters that differ from the cached disk
 * set, backed by it relative to the machine's directory (memberDiskArgv), so the lab stores the set
 * once under bases/ID; its domain XML and run.sh put each NIC on the lab's network (qemu-files.ts).
 * Disks made from the configured root (the build changed what cached disks cannot take) have no
 * base: they are stored whole, wired all the same.
 */
export const qemuMember: MemberPackRow = {
  labFormat: 'tar',
  async pack(ctx, input) {
    const vm = ctx.vm;
    if (vm === undefined) return wholeMember(qemuCommander).pack(ctx, input);
    const disks = ctx.base?.disks;
    const { files, base } = disks === undefined
      ? { files: await convertImages(vm.images, vm.layout, input.machineDir, 'qcow2', ctx.signal), base: undefined }
      : await deltaDisks(vm.images, vm.layout, disks, input.machineDir, ctx.signal);
    const roles: Record<string, string> = Object.fromEntries(Object.entries(files).map(([disk, file]) => [`disk:${disk}`, file]));
    for (const f of labQemuFiles(ctx.spec, vm.layout, { lab: input.lab.name, machine: input.machine, networks: input.networks, labDir: input.labDir })) {
      await writeFile(join(input.machineDir, f.path), f.content, { mode: f.mode ?? 0o644 });
      roles[f.path === 'run.sh' ? 'run' : 'domain'] = f.path;
    }
    // run.sh's UEFI variables are the machine's own, writable copy of OVMF's template.
    const { ovmf } = runShOvmf(ctx.spec, vm.layout);
    if (ovmf !== undefined) {
      await copyFile(ovmfBuild(ctx.spec, vm.layout).vars, join(input.machineDir, ovmf.vars));
      roles.nvram = ovmf.vars;
    }
    for (const iso of (await placeIsos(vm.layout, input.machineDir)).shipped) roles[`iso:${iso}`] = iso;
    return { files: roles, ...(base === undefined ? {} : { base }) };
  },
};
