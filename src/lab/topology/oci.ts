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
  // A router forwards between its networks and rewrites addresses (NAT): the kernel's switch and nftables need both.
  if (isRouter(m)) out.push('    sysctls:', `      net.ipv4.ip_forward: ${q('1')}`, '    cap_add:', '      - NET_ADMIN');
  return out;
}

/**
 * topology/compose.yaml (the Compose specification, as podman-compose reads it): one network per
 * lab network with its subnet, internal (no route out of the lab), one service per machine with its
 * address and MAC on each network. Compose's own DHCP does not exist: a DHCP NIC gets an address
 * from the compose network's IPAM, its guest then asks the lab's DHCP server.
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
    ]),
    'services:',
    ...lab.machines.flatMap((m) => service(m, networks)),
    '',
  ];
  return [{ role: 'compose', path: 'topology/compose.yaml', content: lines.join('\n') }];
};
