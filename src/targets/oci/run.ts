import { IP_FORWARD_KEY } from '../../families/linux/services/router.js';
import type { RunCommand, RunContext } from '../types.js';

/**
 * podman: the image is NAME:latest (index.json's ref name). What an image cannot carry is given
 * to podman run: the hostname (a label only), the first static NIC's address (a podman network
 * with its subnet, named like the container), DNS servers, a router's forwarding (a container's
 * /proc/sys is read-only) and CAP_NET_ADMIN for the guest's firewall; systemd is the image's command.
 */
export function ociRunCommands(ctx: RunContext): RunCommand[] {
  const { spec } = ctx;
  const name = ctx.name ?? spec.name;
  const image = `${spec.name}:latest`;
  const nic = spec.nics.find((n) => n.mode === 'static' && n.address && n.networkAddress);
  const gateway = nic ? spec.gateway ?? nic.gateway : undefined;
  const network: RunCommand[] = nic ? [{
    what: `a network for ${nic.name}'s address`,
    argv: ['podman', 'network', 'create', '--subnet', `${nic.networkAddress}/${nic.prefix}`,
      ...(gateway && gateway !== nic.address ? ['--gateway', gateway] : []), name],
  }] : [];
  const router = spec.provision.services.router === undefined ? [] : ['--sysctl', `${IP_FORWARD_KEY}=1`];
  return [
    { what: `load the image ${image}`, argv: ['podman', 'load', '-i', ctx.archive] },
    ...network,
    {
      what: 'start it, with systemd',
      argv: ['podman', 'run', '-d', '--name', name, '--systemd=always', '--cap-add', 'NET_ADMIN', '--hostname', spec.hostname,
        ...spec.dns.flatMap((d) => ['--dns', d]), ...router, ...(nic ? ['--network', name, '--ip', nic.address!] : []), image],
    },
  ];
}
