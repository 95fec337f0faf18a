import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeArchive } from '../../archive/write.js';
import type { Commander } from '../types.js';
import type { ResolvedSpec } from '../../config/resolve.js';
import type { VmLayout } from '../../disks/layout.js';
import { convertImages, isoNames, placeIsos, renderVmCommon } from '../vm/common.js';
import { boxConfig } from './box.js';
import { packageBox } from './box-package.js';
import { qemuRunCommands } from './run.js';
import { LIBVIRT_IMAGES, QEMU_PLATFORM_SECURITY, qemuPlatform, renderLibvirtXml, renderRunSh } from './render.js';

export { LIBVIRT_IMAGES };
/**
 * Debian's ovmf package: the plain build, and for Secure Boot the build that enforces it (SMM) with
 * a variable store that has Microsoft's keys enrolled and Secure Boot on, which Windows needs; the
 * package's firmware descriptor /usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json
 * pairs the same two (its OVMF_CODE_4M.ms.fd is a link to the secboot build).
 */
const OVMF = {
  plain: { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  secureBoot: { code: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd' },
} as const;

export function ovmfBuild(spec: ResolvedSpec, layout: VmLayout): { code: string; vars: string } {
  return qemuPlatform(spec, layout).secureBoot ? OVMF.secureBoot : OVMF.plain;
}

/** run.sh's firmware: OVMF's code from the host, the machine's own variable store beside it. */
export function runShOvmf(spec: ResolvedSpec, layout: VmLayout): { ovmf?: { code: string; vars: string } } {
  return layout.firmware === 'efi' ? { ovmf: { code: ovmfBuild(spec, layout).code, vars: `${spec.name}-OVMF_VARS.fd` } } : {};
}

/** libvirt resolves nothing relative: shipped files are named where the README says to put them. */
function libvirtXml(spec: ResolvedSpec, layout: VmLayout, files: Record<string, string>, isos: Record<string, string>): string {
  const inLibvirt = (path: string): string => (path.startsWith('/') ? path : `${LIBVIRT_IMAGES}/${path}`);
  return renderLibvirtXml(spec, layout, {
    diskPaths: Object.fromEntries(Object.entries(files).map(([disk, file]) => [disk, inLibvirt(file)])),
    isoPaths: Object.fromEntries(Object.entries(isos).map(([cd, path]) => [cd, inLibvirt(path)])),
    ...(layout.firmware === 'efi' ? { ovmf: libvirtOvmf(spec, layout) } : {}),
  });
}

/** libvirt makes the machine's variable store from the template the first time it starts it. */
export function libvirtOvmf(spec: ResolvedSpec, layout: VmLayout): { code: string; vars: string; varsTemplate?: string } {
  const build = ovmfBuild(spec, layout);
  const vars = `/var/lib/libvirt/qemu/nvram/${spec.name}_VARS.fd`;
  // Left to itself, libvirt would pair the secboot build with the keyless store of the
  // 50-edk2-x86_64-secure.json descriptor, in which Secure Boot is off.
  return build === OVMF.secureBoot ? { code: build.code, vars, varsTemplate: build.vars } : { code: build.code, vars };
}

/**
 * QEMU/KVM: qcow2 disks, a libvirt domain XML (copy the disks to /var/lib/libvirt/images, then
 * `virsh define NAME.xml`) and run.sh, the plain qemu command line, which runs from the unpacked
 * directory. UEFI machines carry their own copy of OVMF's variable store. With `-f box`, a Vagrant
 * box for vagrant-libvirt instead (box.ts), whose machine gets what Vagrant logs in with.
 */
export const qemuCommander: Commander = {
  nicOwner: 'guest',
  // Plain tar first, as OVA and the field's image builders ship disks: the disk format is already
  // sparse, and compressing a VM's disks takes longer than making them from the cache.
  formats: ['tar', 'tar.zst', 'tar.gz', 'zip', 'box'],
  formatConfigs: { box: boxConfig },
  diskFormat: 'qcow2',
  platformSecurity: QEMU_PLATFORM_SECURITY,
  render: (spec, _options, layout) => {
    if (!layout) return renderVmCommon([], layout);
    const files = Object.fromEntries(layout.disks.map((d) => [d.name, `${d.file}.qcow2`]));
    const isos = isoNames(layout);
    return renderVmCommon([
      { path: `${spec.name}.xml`, content: libvirtXml(spec, layout, files, isos) },
      { path: 'run.sh', content: renderRunSh(spec, layout, { diskPaths: files, isoPaths: isos, ...runShOvmf(spec, layout) }), mode: 0o755 },
    ], layout);
  },
  async package(ctx) {
    if (ctx.format === 'box') return packageBox(ctx);
    const { layout, images } = ctx.vm!;
    const dir = join(ctx.stageDir, 'vm');
    const name = ctx.spec.name;
    const files = await convertImages(images, layout, dir, 'qcow2', ctx.signal);
    const { names: isos, shipped } = await placeIsos(layout, dir);
    const { ovmf } = runShOvmf(ctx.spec, layout);
    const extra: string[] = [];
    if (ovmf) {
      await copyFile(ovmfBuild(ctx.spec, layout).vars, join(dir, ovmf.vars));
      extra.push(ovmf.vars);
    }
    await writeFile(join(dir, `${name}.xml`), libvirtXml(ctx.spec, layout, files, isos));
    await writeFile(join(dir, 'run.sh'), renderRunSh(ctx.spec, layout, { diskPaths: files, isoPaths: isos, ...(ovmf ? { ovmf } : {}) }), { mode: 0o755 });
    await writeArchive(ctx.format, ctx.output, dir, [`${name}.xml`, 'run.sh', ...Object.values(files), ...extra, ...shipped], { signal: ctx.signal });
  },
  run: qemuRunCommands,
};

