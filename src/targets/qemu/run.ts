import { LIBVIRT_IMAGES } from './render.js';
import { under, unpackArgv } from '../run-commands.js';
import type { RunCommand, RunContext } from '../types.js';

/**
 * libvirt resolves no relative path, so NAME.xml names its disks in libvirt's image directory: the
 * archive is unpacked there. A box is added to Vagrant and brought up from a project folder.
 */
export function qemuRunCommands(ctx: RunContext): RunCommand[] {
  const name = ctx.spec.name;
  if (ctx.format === 'box') {
    const project = under(ctx.dir, name);
    return [
      { what: `add the box to Vagrant as ${name}`, argv: ['vagrant', 'box', 'add', '--name', name, ctx.archive] },
      { what: 'a Vagrant project folder', argv: ['mkdir', '-p', project] },
      { what: 'go into it', argv: ['cd', project] },
      { what: 'a Vagrantfile that uses the box', argv: ['vagrant', 'init', name] },
      { what: 'start it with vagrant-libvirt', argv: ['vagrant', 'up', '--provider', 'libvirt'] },
    ];
  }
  return [
    { what: `unpack the disks and ${name}.xml into ${LIBVIRT_IMAGES}, where the XML names them`, argv: unpackArgv(ctx.archive, ctx.format, LIBVIRT_IMAGES) },
    { what: 'define the machine in libvirt', argv: ['virsh', 'define', under(LIBVIRT_IMAGES, `${name}.xml`)] },
    { what: 'start it', argv: ['virsh', 'start', name] },
  ];
}
