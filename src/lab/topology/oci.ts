import { dnsServersOf } from '../../config/resolve.js';
import { parseRange } from '../../config/service-values.js';
import type { Lab, LabMachine } from '../types.js';
import type { LabManifestNetwork } from '../manifest.js';
import type { TopologyRenderer } from './types.js';

/** YAML scalars are written JSON-quoted: JSON strings are valid YAML flow scalars, so no value can break the file. */
const q = (s: string): string => JSON.stringify(s);

/**
 * The image a machine's service runs once skopeo has copied it from the lab's OCI layout into the
 * store: lab-scoped (LAB-NAME), so two labs with a machine of the same name never share an image.
 */
export function labImageRef(lab: string, machine: string): string {
  return `localhost/${lab}-${machine}:latest`;
}

/** What the runtime plan needs of a lab: a built lab's manifest and machine configs give it too. */
export interface OciPlanLab {
  name: string;
  machines: ReadonlyArray<Pick<LabMachine, 'name' | 'config' | 'nics'>>;
}

type PlanMachine = OciPlanLab['machines'][number];

function isRouter(m: PlanMachine): boolean {
  return m.config.router !== undefined;
}

/**
 * The DNS servers podman writes into the guest's resolv.conf: the machine's own (its config's, as
 * its own checks expect them), else its first network's; and the default route through that network's gateway.
 */
function networkFacts(m: PlanMachine, networks: readonly LabManifestNetwork[]): { dns: string[]; defaultRoute?: string } {
  const own = dnsServersOf(m.config);
  const first = m.nics[0];
  const net = networks.find((n) => n.name === first?.network);
  if (first === undefined || net === undefined) return { dns: own };
  const mine = m.nics.some((nic) => nic.address === net.gateway);
  return { dns: own.length > 0 ? own : net.dns, ...(net.gateway === undefined || mine ? {} : { defaultRoute: net.gateway }) };
}

/** A lab network as the container runtime makes it. */
export interface OciNetworkPlan {
  /** The lab's name for it (the compose file's key). */
  name: string;
  /** The runtime's network: lab.json's libvirtNetwork, lab-scoped (LAB-NET). */
  runtimeNetwork: string;
  subnet: string;
  /** The bridge's own address (composeBridgeAddress), never a machine's. */
  gateway: string;
}

/** One machine as a container: what the compose file says and `podman run` needs. */
export interface OciServicePlan {
  name: string;
  image: string;
  hostname: string;
  /** Per NIC: its runtime network, its address (a DHCP NIC's from dhcpAddresses; none: the network's IPAM gives one) and MAC. */
  networks: Array<{ name: string; runtimeNetwork: string; nic: string; address?: string; mac: string }>;
  capAdd: string[];
  sysctls: string[];
  /** Its own DNS servers, else its first network's (podman writes the guest's resolv.conf; its own would be the host's). */
  dns: string[];
  /**
   * Its first network's gateway, unless it is that gateway. Internal networks give no route and
   * podman 4.3 cannot add one: whoever starts the lab adds it in the guest (NET_ADMIN is granted).
   */
  defaultRoute?: string;
}

/**
 * The lab for a container runtime, the one source of compose.yaml and of podmanRunArgs: every
 * guest loads its own firewall (nftables.service fails without NET_ADMIN, as vmgen verify's podman
 * runtime knows); a router also forwards between its networks (a sysctl an image cannot carry) and
 * its DHCP server needs raw sockets.
 */
export function ociLabPlan(lab: OciPlanLab, networks: readonly LabManifestNetwork[]): { networks: OciNetworkPlan[]; services: OciServicePlan[] } {
  const leased = new Map(networks.flatMap((n) => [...dhcpAddresses(lab, n)]));
  return {
    networks: networks.map((n) => ({ name: n.name, runtimeNetwork: n.libvirtNetwork, subnet: n.subnet, gateway: composeBridgeAddress(lab, n) })),
    services: lab.machines.map((m) => ({
      name: m.name,
      image: labImageRef(lab.name, m.name),
      hostname: m.config.config.hostname ?? m.name,
      networks: m.nics.map((nic) => {
        const net = networks.find((n) => n.name === nic.network);
        if (net === undefined) throw new Error(`${m.name}.${nic.nic}: no network ${nic.network}`);
        const address = nic.address === 'dhcp' ? leased.get(`${m.name}/${nic.nic}`) : nic.address;
        return { name: net.name, runtimeNetwork: net.libvirtNetwork, nic: nic.nic, ...(address === undefined ? {} : { address }), mac: nic.mac };
      }),
      capAdd: isRouter(m) ? ['NET_ADMIN', 'NET_RAW'] : ['NET_ADMIN'],
      sysctls: isRouter(m) ? ['net.ipv4.ip_forward=1'] : [],
      ...networkFacts(m, networks),
    })),
  };
}

/**
 * `podman network create` arguments for a lab network (after `podman network create`): internal
 * (no route out of the lab), no podman DNS (the lab has its own), the bridge off the router's address.
 */
export function podmanNetworkArgs(n: OciNetworkPlan): string[] {
  return ['--internal', '--disable-dns', '--subnet', n.subnet, '--gateway', n.gateway, n.runtimeNetwork];
}

/**
 * `podman run` arguments for a machine (after `podman run -d`, before the image's command; the
 * host's own runtime options, such as --runtime runc and ulimits, go before them). The container is
 * named LAB-NAME so that two labs never share one; each NIC is one --network NET:ip=…,mac=…,interface_name=…
 * (podman 4.3 names a container's interfaces in no fixed order otherwise: gw's eth0 was once on the LAN).
 * The image's command is /sbin/init, which podman runs in systemd mode by itself.
 */
export function podmanRunArgs(lab: string, s: OciServicePlan): string[] {
  return [
    '--name', `${lab}-${s.name}`, '--hostname', s.hostname,
    ...s.capAdd.flatMap((c) => ['--cap-add', c]),
    ...s.sysctls.flatMap((c) => ['--sysctl', c]),
    ...s.dns.flatMap((d) => ['--dns', d]),
    ...s.networks.flatMap((n) => ['--network', `${n.runtimeNetwork}:${n.address === undefined ? '' : `ip=${n.address},`}mac=${n.mac},interface_name=${n.nic}`]),
    s.image,
  ];
}

/**
 * The classic defaults: podman's own (nofile 1048576) are refused where the host's hard limit is
 * lower (runc: "error setting rlimit type 7"), as in this project's CI sandbox.
 */
const COMPOSE_ULIMITS = { nofile: 1024, nproc: 1024 } as const;

function service(s: OciServicePlan): string[] {
  const out = [`  ${q(s.name)}:`, `    image: ${q(s.image)}`, `    hostname: ${q(s.hostname)}`, '    networks:'];
  for (const n of s.networks) {
    out.push(`      ${q(n.name)}:`);
    if (n.address !== undefined) out.push(`        ipv4_address: ${q(n.address)}`);
  }
  if (s.sysctls.length > 0) out.push('    sysctls:', ...s.sysctls.map((c) => `      - ${q(c)}`));
  out.push('    cap_add:', ...s.capAdd.map((c) => `      - ${c}`));
  if (s.dns.length > 0) out.push('    dns:', ...s.dns.map((d) => `      - ${q(d)}`));
  out.push('    ulimits:', ...Object.entries(COMPOSE_ULIMITS).map(([k, v]) => `      ${k}: ${v}`));
  return out;
}

const ipNumber = (ip: string): number => ip.split('/')[0]!.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const ipText = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

/**
 * The address the runtime's bridge takes on a network: the highest host address no machine of the
 * lab has. Compose and podman would take the first one, which is the lab's router's (x.y.z.1).
 */
export function composeBridgeAddress(lab: OciPlanLab, network: LabManifestNetwork): string {
  const taken = new Set(lab.machines.flatMap((m) => m.nics.filter((n) => n.network === network.name).map((n) => n.address)));
  const first = ipNumber(network.subnet);
  for (let host = first + 2 ** (32 - network.prefix) - 2; host > first; host--) if (!taken.has(ipText(host))) return ipText(host);
  throw new Error(`network ${network.name} (${network.subnet}) has no address left for the runtime's bridge`);
}

/**
 * The addresses DHCP NICs get from the runtime, which has no DHCP of its own: in machine order, the
 * first free addresses of the range the lab's DHCP server hands out on that network, so that each
 * is one the lab's server could have given (podman's IPAM would take the subnet's first free ones,
 * and a lease range given to the runtime's IPAM refuses the static addresses outside it). Keyed
 * MACHINE/NIC; empty when no machine serves DHCP on the network or the range is used up.
 */
export function dhcpAddresses(lab: OciPlanLab, network: LabManifestNetwork): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of lab.machines) {
    for (const [nicName, scope] of Object.entries(m.config.dhcp ?? {})) {
      if (!m.nics.some((n) => n.nic === nicName && n.network === network.name)) continue;
      const range = parseRange(scope.range);
      if (!range.ok) continue;
      const taken = new Set(lab.machines.flatMap((x) => x.nics.filter((n) => n.network === network.name).map((n) => n.address)));
      const fixed = new Set(Object.values(scope.hosts).map((h) => h[1]));
      let next = ipNumber(range.value.from);
      const last = ipNumber(range.value.to);
      for (const x of lab.machines) {
        for (const n of x.nics.filter((nic) => nic.network === network.name && nic.address === 'dhcp')) {
          while (next <= last && (taken.has(ipText(next)) || fixed.has(ipText(next)))) next++;
          if (next > last) return out;
          out.set(`${x.name}/${n.nic}`, ipText(next++));
        }
      }
      return out;
    }
  }
  return out;
}

/**
 * topology/compose.yaml in the Compose file format docker-compose 1.29 (Debian 12's) reads, and
 * newer ones too: one network per lab network with its subnet, internal (no route out of the lab),
 * one service per machine with its address on each network. Compose has no DHCP: a DHCP NIC gets a
 * fixed address from the lab's DHCP range (dhcpAddresses), else one from the network's IPAM. The
 * image's command is /sbin/init, which podman runs in systemd mode by itself. No top-level name
 * and no per-network mac_address: 1.29 refuses both (its schema), so the project name is given
 * with -p and podman picks the MACs. podman-compose 1.0.3 (Debian 12) cannot read per-network
 * addresses at all ("missing networks": it takes a service's networks as a list only). Tested:
 * docker-compose against `podman system service` started in the lab's namespace.
 */
export const ociTopology: TopologyRenderer = (lab: Lab, networks) => {
  const plan = ociLabPlan(lab, networks);
  const lines = [
    `# The lab ${lab.name}: docker-compose -p ${lab.name} up -d, against podman's API, once the images of oci/ are loaded.`,
    '# Every machine routes through the lab\'s router, which internal networks do not give: add each default route after start.',
    'networks:',
    ...plan.networks.flatMap((n) => [
      `  ${q(n.name)}:`,
      `    name: ${q(n.runtimeNetwork)}`,
      '    internal: true',
      '    ipam:',
      '      config:',
      `        - subnet: ${q(n.subnet)}`,
      `          gateway: ${q(n.gateway)}`,
    ]),
    'services:',
    ...plan.services.flatMap(service),
    '',
  ];
  return [{ role: 'compose', path: 'topology/compose.yaml', content: lines.join('\n') }];
};
