import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeArchive } from '../../archive/write.js';
import type { Commander } from '../types.js';
import { convertImages, placeIsos, vmLayerFiles, vmPackages } from '../vm/common.js';
import { renderLibvirtXml, renderRunSh } from './render.js';

/** Where libvirt keeps disk images by default; the domain XML names disks there (libvirt needs absolute paths). */
export const LIBVIRT_IMAGES = '/var/lib/libvirt/images';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

/**
 * QEMU/KVM: qcow2 disks, a libvirt domain XML (copy the disks to /var/lib/libvirt/images, then
 * `virsh define NAME.xml`) and run.sh, the plain qemu command line, which runs from the unpacked
 * directory. UEFI machines carry their own copy of OVMF's variable store.
 */
export const qemuCommander: Commander = {
  nicOwner: 'guest',
  formats: ['tar.zst', 'tar.gz', 'zip', 'tar'],
  packages: vmPackages,
  layerFiles: vmLayerFiles,
  render: () => ({ archiveFiles: [], guestFiles: [] }),
  async package(ctx) {
    const { layout, images } = ctx.vm!;
    const dir = join(ctx.stageDir, 'vm');
    const name = ctx.spec.name;
    const files = await convertImages(images, layout, dir, 'qcow2', ctx.signal);
    const isos = await placeIsos(layout, dir);
    const extra: string[] = [];
    let ovmf: { code: string; vars: string } | undefined;
    if (layout.firmware === 'efi') {
      await copyFile(OVMF_VARS, join(dir, `${name}-OVMF_VARS.fd`));
      extra.push(`${name}-OVMF_VARS.fd`);
      ovmf = { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: `${name}-OVMF_VARS.fd` };
    }
    // libvirt resolves nothing relative: shipped files are named where the README says to put them.
    const inLibvirt = Object.fromEntries(Object.entries(files).map(([disk, file]) => [disk, `${LIBVIRT_IMAGES}/${file}`]));
    const isosInLibvirt = Object.fromEntries(Object.entries(isos).map(([cd, path]) => [cd, path.startsWith('/') ? path : `${LIBVIRT_IMAGES}/${path}`]));
    await writeFile(join(dir, `${name}.xml`), renderLibvirtXml(ctx.spec, layout, {
      diskPaths: inLibvirt, isoPaths: isosInLibvirt, ...(ovmf ? { ovmf: { code: ovmf.code, vars: `/var/lib/libvirt/qemu/nvram/${name}_VARS.fd` } } : {}),
    }));
    await writeFile(join(dir, 'run.sh'), renderRunSh(ctx.spec, layout, { diskPaths: files, isoPaths: isos, ...(ovmf ? { ovmf } : {}) }), { mode: 0o755 });
    const shipped = layout.cdDrives.filter((c) => c.copy && isos[c.name]).map((c) => isos[c.name]!);
    await writeArchive(ctx.format, ctx.output, dir, [`${name}.xml`, 'run.sh', ...Object.values(files), ...extra, ...shipped], { signal: ctx.signal });
  },
};
