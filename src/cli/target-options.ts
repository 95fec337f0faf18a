import type { Command } from 'commander';
import { VmgenError } from '../errors.js';
import type { TargetOptions } from '../targets/types.js';

/** The per-build choices a target needs beyond the machine config, for build and render alike. */
export function withTargetOptions(command: Command): Command {
  return command
    .option('--lxc-path <dir>', 'lxc: the directory the archive will be unpacked under (lxc-start -P DIR); an image.tar needs none', '/var/lib/lxc')
    .option('--ctid <id>', 'openvz: the container id (CTID.conf name)', '101')
    .option('--kits <dir>', 'Windows: directory of installer kits (default: $VMGEN_KITS_DIR)')
    .option('--base-disks <dir>', 'Windows: directory of base disks named OS-ID.vmdk, .qcow2 or .raw (default: $VMGEN_BASE_DISKS_DIR)');
}

/** --lxc-path and --ctid, checked here so a bad value never reaches a generated file. */
export function targetOptionsFrom(flags: { lxcPath?: string; ctid?: string; kits?: string; baseDisks?: string }): TargetOptions {
  const options: TargetOptions = {};
  if (flags.lxcPath !== undefined) {
    if (!/^\/[A-Za-z0-9._/-]*$/.test(flags.lxcPath) || flags.lxcPath.split('/').includes('..')) {
      throw new VmgenError('VMG_USAGE', `--lxc-path must be an absolute path of plain names: ${JSON.stringify(flags.lxcPath)}`);
    }
    options.lxcPath = flags.lxcPath.replace(/\/+$/, '') || '/';
  }
  if (flags.ctid !== undefined) {
    if (!/^\d+$/.test(flags.ctid) || Number(flags.ctid) < 101 || Number(flags.ctid) > 2 ** 31 - 1) {
      throw new VmgenError('VMG_USAGE', `--ctid must be a number from 101: ${JSON.stringify(flags.ctid)}`);
    }
    options.ctid = Number(flags.ctid);
  }
  for (const [flag, value, key] of [['--kits', flags.kits, 'kitsDir'], ['--base-disks', flags.baseDisks, 'baseDisksDir']] as const) {
    if (value === undefined) continue;
    // A directory on the build host, never written into a generated file; absolute so that a
    // service or worker reads the same one whatever its working directory.
    if (!value.startsWith('/') || /[\u0000-\u001f]/.test(value)) throw new VmgenError('VMG_USAGE', `${flag} must be an absolute path: ${JSON.stringify(value)}`);
    options[key] = value;
  }
  return options;
}
