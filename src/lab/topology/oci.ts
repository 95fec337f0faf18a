import type { Lab, LabMachine } from '../types.js';
import type { LabManifestNetwork } from '../manifest.js';
import type { TopologyRenderer } from './types.js';

/** YAML scalars are written JSON-quoted: JSON strings are valid YAML flow scalars, so no value can break the file. */
const q = (s: string): string => JSON.stringify(s);

/** The image a machine's service runs once `podman load` / skopeo has put the lab's OCI layout into the store. */
export function labImageRef(machine: string): string {
  return `localhost/${machine}:latest`;
}

function isRouter(m: LabMachine): boolean {
  return m.config.router !== undefined;
}

function service(m: LabMachine, networks: readonly LabManifestNetwork[]): string[] {
  const out = [`  ${q(m.name)}:`, `    image: ${q(labImageRef(m.name))}`, `    hostname: ${q(m.config.config.hostname ?? m.name)}`, '    networks:'];
  for (const nic of m.nics) {
    const net = networks.find((n) => n.name === nic.network);
    if (net === undefined) throw new Error(`${m.name}.${nic.nic}: no network ${nic.network}`);
    out.push(`      ${q(net.name)}:`);
    if (nic.address !== 'dhcp') out.push(`        ipv4_address: ${q(nic.address)}`);
    out.push(`        mac_address: ${q(nic.mac)}`);
  }
  // Every guest loads its own firewall (nftables.service fails without NET_ADMIN, as vmgen verify's
  // podman runtime knows). A router also forwards between its networks (a sysctl an image cannot
  // carry) and its DHCP server needs raw sockets. sysctls as a list: podman-compose 1.0.3 (Debian 12)
  // passes a mapping's keys without their values.
  if (isRouter(m)) out.push('    sysctls:', `      - ${q('net.ipv4.ip_forward=1')}`);
  out.push('    cap_add:', '      - NET_ADMIN', ...(isRouter(m) ? ['      - NET_RAW'] : []));
  return out;
}

const ipNumber = (ip: string): number => ip.split('/')[0]!.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const ipText = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

/**
 * The address the runtime's bridge takes on a network: the highest host address no machine of the
 * lab has. Compose and podman would take the first one, which is the lab's router's (x.y.z.1).
 */
export function composeBridgeAddress(lab: Lab, network: LabManifestNetwork): string {
  const taken = new Set(lab.machines.flatMap((m) => m.nics.filter((n) => n.network === network.name).map((n) => n.address)));
  const first = ipNumber(network.subnet);
  for (let host = first + 2 ** (32 - network.prefix) - 2; host > first; host--) if (!taken.has(ipText(host))) return ipText(host);
  throw new Error(`network ${network.name} (${network.subnet}) has no address left for the runtime's bridge`);
}

/**
 * topology/compose.yaml (the Compose specification): one network per lab network with its subnet,
 * internal (no route out of the lab), one service per machine with its address and MAC on each
 * network. Compose's own DHCP does not exist: a DHCP NIC gets an address from the compose
 * network's IPAM. The image's command is /sbin/init, which podman runs in systemd mode by itself.
 * podman-compose 1.0.3 (Debian 12) refuses per-network options ("missing networks") and ignores
 * ipam: there `vmgen lab up` runs podman itself with the same facts (see lab.json).
 */
export const ociTopology: TopologyRenderer = (lab: Lab, networks) => {
  const lines = [
    `# The lab ${lab.name} for podman-compose, after the images of oci/ are loaded.`,
    `name: ${q(lab.name)}`,
    'networks:',
    ...networks.flatMap((n) => [
      `  ${q(n.name)}:`,
      `    name: ${q(n.libvirtNetwork)}`,
      '    internal: true',
      '    ipam:',
      '      config:',
      `        - subnet: ${q(n.subnet)}`,
      `          gateway: ${q(composeBridgeAddress(lab, n))}`,
    ]),
    'services:',
    ...lab.machines.flatMap((m) => service(m, networks)),
    '',
  ];
  return [{ role: 'compose', path: 'topology/compose.yaml', content: lines.join('\n') }];
};
