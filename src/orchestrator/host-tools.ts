import { archiveTools } from '../archive/write.js';
import { CACHE_TOOLS } from '../cache/store.js';
import { ChrootCommunicator } from '../communicators/chroot.js';
import { VmgenError } from '../errors.js';
import { findTool, packageOf } from '../exec/tools.js';
import type { Installer } from '../installers/types.js';
import { VM_PACKAGE_TOOLS } from '../targets/vm/common.js';
import type { ArchiveFormat, Commander } from '../targets/types.js';
import { DISK_CACHE_TOOLS } from '../disks/disk-cache.js';
import { diskImageTools } from '../disks/disk-image.js';
import type { VmLayout } from '../disks/layout.js';
import { MOUNT_TOOLS } from '../layers/mount.js';

export { findTool } from '../exec/tools.js';

/** What a build will do, as far as the tools it runs depend on it. */
export interface ToolPlan {
  installer: Pick<Installer, 'hostTools'>;
  commander: Pick<Commander, 'hostTools' | 'diskFormat'>;
  kind: 'container' | 'vm';
  format: ArchiveFormat;
  /** VM targets: the disks, file systems and firmware the build makes. */
  layout?: VmLayout;
}

/**
 * Every host tool the build of this plan runs, each contributed by the module that runs it: the
 * layer cache, the mounts and the chroot always; the installer's own; the archive format's
 * compressor (or the target's packing); for VMs the partitioning, each file system's mkfs, the boot
 * loader of the firmware, the disk cache and the conversion to the target's disk format.
 */
export function buildHostTools(plan: ToolPlan): string[] {
  const layout = plan.kind === 'vm' ? plan.layout : undefined;
  return [...new Set([
    ...CACHE_TOOLS, ...MOUNT_TOOLS, ...ChrootCommunicator.TOOLS,
    ...plan.installer.hostTools,
    ...(plan.commander.hostTools?.(plan.format) ?? archiveTools(plan.format)),
    ...(layout ? [...diskImageTools(layout), ...VM_PACKAGE_TOOLS, ...(plan.commander.diskFormat === undefined ? [] : DISK_CACHE_TOOLS)] : []),
  ])];
}

/** Fails before any work when a tool is missing, naming the package that has it. */
export function checkHostTools(tools: readonly string[], opts: { path?: string; needRoot?: boolean } = {}): void {
  const missing = tools.filter((t) => findTool(t, opts.path) === undefined);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(packageOf))];
    throw new VmgenError('VMG_TOOL_MISSING', `missing host tools: ${missing.join(', ')}`, {
      hint: `apt-get install ${pkgs.join(' ')} (scripts/setup.sh installs everything); if they are installed, put their directory (often /usr/sbin) on PATH`,
    });
  }
  if ((opts.needRoot ?? true) && process.getuid?.() !== 0) {
    throw new VmgenError('VMG_TOOL_MISSING', 'building a root file system needs root (its package tool, mounts and chroot)', { hint: 'run vmgen build as root, e.g. with sudo' });
  }
}
