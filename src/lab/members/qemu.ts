import { join } from 'node:path';
import { run } from '../../exec/run.js';
import { qemuCommander } from '../../targets/qemu/index.js';
import { writeStageFiles } from '../../targets/stage.js';
import { labBaseId } from '../manifest.js';
import type { MemberPackRow } from './types.js';
import { wholeMember } from './whole.js';

/**
 * A qemu member: each disk as a qcow2 holding only the clusters that differ from the cached disk
 * set (qemu-img convert -B), whose backing file is then named relative to the machine's directory
 * (rebase -u: nothing is copied), so the lab stores the set once under bases/ID.
 */
export const qemuMember: MemberPackRow = {
  labFormat: 'tar',
  async pack(ctx, input) {
    const disks = ctx.base?.disks;
    const vm = ctx.vm;
    // Disks made from the configured root (the build changed what cached disks cannot take) have no base.
    if (disks === undefined || vm === undefined) return wholeMember(qemuCommander).pack(ctx, input);
    const id = labBaseId(disks.key);
    const files: Record<string, string> = {};
    for (const image of vm.images) {
      const disk = vm.layout.disks.find((d) => d.name === image.disk)!;
      const baseFile = disks.files[disk.name]!;
      const out = `${disk.file}.qcow2`;
      const dest = join(input.machineDir, out);
      await run(['qemu-img', 'convert', '-f', image.format, '-O', 'qcow2', '-B', join(disks.dir, baseFile), '-F', 'qcow2', image.path, dest], { signal: ctx.signal });
      await run(['qemu-img', 'rebase', '-u', '-f', 'qcow2', '-b', `../../bases/${id}/${baseFile}`, '-F', 'qcow2', dest], { signal: ctx.signal });
      files[`disk:${disk.name}`] = out;
    }
    const rendered = qemuCommander.render(ctx.spec, ctx.options, vm.layout).archiveFiles;
    await writeStageFiles(input.machineDir, rendered);
    for (const f of rendered) files[f.path === 'run.sh' ? 'run' : f.path.endsWith('.xml') ? 'domain' : f.path] = f.path;
    return { files, base: { id, layerKey: disks.key, source: disks.dir, entries: Object.values(disks.files) } };
  },
};
