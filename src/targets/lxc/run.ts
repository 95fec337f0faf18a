import { under, unpackArgv } from '../run-commands.js';
import type { RunCommand, RunContext } from '../types.js';
import { DEFAULT_LXC_PATH, LXC_IMAGE_FILES, lxcBridges } from './render.js';

/**
 * The unpacked layout starts only where it was built for (its config names DIR/NAME/rootfs), under
 * the machine's own name; an image is imported under any name and directory (lxc-local), with
 * `-f /dev/null` so that the host's default.conf adds no network lines after the image's.
 */
export function lxcRunCommands(ctx: RunContext): RunCommand[] {
  const lxcPath = ctx.options.lxcPath ?? DEFAULT_LXC_PATH;
  const bridges = lxcBridges(ctx.spec);
  const start = (name: string): RunCommand => ({
    what: bridges.length ? `start it (its NICs join ${bridges.join(' and ')}: ${bridges.length === 1 ? 'that bridge' : 'those bridges'} must exist here)` : 'start it',
    argv: ['lxc-start', '-n', name, '-P', lxcPath],
  });
  if (ctx.format === 'image.tar') {
    const name = ctx.name ?? ctx.spec.name;
    const image = under(ctx.dir, `${name}-image`);
    return [
      { what: 'a folder for the image', argv: ['mkdir', '-p', image] },
      { what: `unpack ${LXC_IMAGE_FILES.meta} and ${LXC_IMAGE_FILES.rootfs}`, argv: unpackArgv(ctx.archive, ctx.format, image) },
      {
        what: `make the container ${name} under ${lxcPath} from the image`,
        argv: ['lxc-create', '-n', name, '-P', lxcPath, '-f', '/dev/null', '-t', 'local', '--',
          '--metadata', under(image, LXC_IMAGE_FILES.meta), '--fstree', under(image, LXC_IMAGE_FILES.rootfs)],
      },
      start(name),
    ];
  }
  const dir = under(lxcPath, ctx.spec.name);
  return [
    { what: `its folder under ${lxcPath}, the LXC path it was built for`, argv: ['mkdir', '-p', dir] },
    { what: 'unpack config, fstab and rootfs into it', argv: unpackArgv(ctx.archive, ctx.format, dir) },
    start(ctx.spec.name),
  ];
}
