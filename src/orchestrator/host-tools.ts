import { VmgenError } from '../errors.js';
import { findTool, packageOf } from '../exec/tools.js';

export { findTool } from '../exec/tools.js';

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
