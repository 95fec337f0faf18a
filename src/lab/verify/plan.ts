import type { ResolvedSpec } from '../../config/resolve.js';
import { routedNics, natNic } from '../../families/linux/services/router.js';
import type { LabNetwork, LabNic } from '../types.js';

/*
 * The network checks of a running lab (issue 16, item 4), planned from the lab alone: which machine
 * asks which peer what. Pure, so the plan of the example lab is a unit test; running it is
 * ./run.ts. Peers with a DHCP address have no address in the plan: the runner reads it from the
 * peer first (and checks it, the DHCP check), then fills it in.
 */

/** One machine of a built lab as verify sees it: its NICs from the lab and the spec it was built from. */
export interface VerifyMachine {
  name: string;
  nics: readonly LabNic[];
  spec: ResolvedSpec;
}

export interface VerifyLabInput {
  networks: readonly LabNetwork[];
  machines: readonly VerifyMachine[];
}

/** A NIC of a machine: where a check's peer is; `address` is known up front for static NICs only. */
export interface NicRef {
  machine: string;
  nic: string;
  network: string;
  address?: string;
}

export type LabCheck =
  /** The machine reaches the peer directly on a network both are on. */
  | { kind: 'reach'; machine: string; peer: NicRef }
  /**
   * The machine reaches a peer on another network through the router's address on its own network.
   * The peer is the router's own far NIC when no other machine is there: then no hop is taken off the TTL.
   */
  | { kind: 'route'; machine: string; peer: NicRef; router: string; via: string }
  /** The machine's NIC holds an address in the range the network's DHCP server hands out. */
  | { kind: 'dhcp'; machine: string; nic: string; network: string; server: string; from: string; to: string }
  /** A record of a lab zone resolves on a client of the network, through the client's own resolver. */
  | { kind: 'dns'; machine: string; server: string; name: string; type: string; value: string }
  /** A TCP port of the peer answers (open) or does not (closed), asked from the machine. */
  | { kind: 'port'; machine: string; peer: NicRef; port: number; expect: 'open' | 'closed' };

export type LabCheckKind = LabCheck['kind'];

/** Every kind, in the order the table lists them. */
export const LAB_CHECK_KINDS: readonly LabCheckKind[] = ['dhcp', 'reach', 'route', 'dns', 'port'];

/** The port asked as closed on a machine that listens on no port it keeps closed: nothing listens there on a vmgen guest. */
export const CLOSED_PROBE_PORT = 1;

function nicRef(m: VerifyMachine, nic: LabNic): NicRef {
  return { machine: m.name, nic: nic.nic, network: nic.network, ...(nic.address === 'dhcp' ? {} : { address: nic.address }) };
}

/** The machines on a network, each with its NIC there, in lab order. */
function membersOf(input: VerifyLabInput, network: string): Array<{ m: VerifyMachine; nic: LabNic }> {
  return input.machines.flatMap((m) => m.nics.filter((n) => n.network === network).map((nic) => ({ m, nic })));
}

/** Every machine to every other machine on each network they share, both ways. */
function reachChecks(input: VerifyLabInput): LabCheck[] {
  return input.networks.flatMap((net) => {
    const members = membersOf(input, net.name);
    return members.flatMap(({ m }) => members.filter((p) => p.m.name !== m.name).map((p) => ({ kind: 'reach' as const, machine: m.name, peer: nicRef(p.m, p.nic) })));
  });
}

/**
 * For each router, from each network it routes (its forwarded NICs without the NAT NIC) to each
 * other network it is on: every machine of the routed network asks the first static machine of
 * the other one. The NAT side is not asked back: a masquerading router lets only replies in.
 */
function routeChecks(input: VerifyLabInput): LabCheck[] {
  const out: LabCheck[] = [];
  for (const r of input.machines) {
    const router = r.spec.provision.services.router;
    if (router === undefined) continue;
    const nat = natNic(router);
    const sides = [...routedNics(router), ...(nat === undefined ? [] : [nat])];
    const nicsOn = sides.map((name) => r.nics.find((n) => n.nic === name)).filter((n): n is LabNic => n !== undefined && n.address !== 'dhcp');
    for (const from of nicsOn.filter((n) => n.nic !== nat)) {
      for (const to of nicsOn.filter((n) => n.network !== from.network)) {
        const target = membersOf(input, to.network).find(({ m, nic }) => m.name !== r.name && nic.address !== 'dhcp' && !m.nics.some((x) => x.network === from.network))
          ?? { m: r, nic: to };
        for (const { m } of membersOf(input, from.network).filter(({ m }) => m.name !== r.name && !m.nics.some((x) => x.network === to.network))) {
          out.push({ kind: 'route', machine: m.name, peer: nicRef(target.m, target.nic), router: r.name, via: from.address });
        }
      }
    }
  }
  return out;
}

/** Each DHCP NIC against the scope of the server that serves its network. */
function dhcpChecks(input: VerifyLabInput): LabCheck[] {
  const servers = input.machines.flatMap((s) => (s.spec.provision.services.dhcp?.scopes ?? []).flatMap((scope) => {
    const nic = s.nics.find((n) => n.nic === scope.nic);
    return nic === undefined ? [] : [{ server: s.name, network: nic.network, range: scope.range }];
  }));
  return input.machines.flatMap((m) => m.nics.filter((n) => n.address === 'dhcp').flatMap((n) => {
    const s = servers.find((x) => x.network === n.network);
    return s === undefined ? [] : [{ kind: 'dhcp' as const, machine: m.name, nic: n.nic, network: n.network, server: s.server, from: s.range.from, to: s.range.to }];
  }));
}

/**
 * Each record of each zone, asked on one client per network the server is on: the first machine
 * there other than the server whose resolver is the server (a DHCP client gets it from the lab's
 * DHCP server, which is then the judge of what its resolver is, so it counts as one).
 */
function dnsChecks(input: VerifyLabInput): LabCheck[] {
  const out: LabCheck[] = [];
  for (const s of input.machines) {
    const zones = s.spec.provision.services.dns?.zones ?? [];
    if (zones.length === 0) continue;
    for (const nic of s.nics) {
      if (nic.address === 'dhcp') continue;
      const serverAddress = nic.address;
      const client = membersOf(input, nic.network).find(({ m, nic: cn }) => m.name !== s.name && (cn.address === 'dhcp' || m.spec.dns.includes(serverAddress)));
      if (client === undefined) continue;
      for (const zone of zones) {
        for (const rec of zone.records) {
          out.push({ kind: 'dns', machine: client.m.name, server: s.name, name: rec.fqdn, type: rec.type, value: rec.value });
        }
      }
    }
  }
  return out;
}

/**
 * Each TCP port a machine opens, asked from the first other machine on one of its static
 * networks, and one port it does not open. Whether a service listens is known only while the lab
 * runs: the runner skips an open port nothing listens on.
 */
function portChecks(input: VerifyLabInput): LabCheck[] {
  const out: LabCheck[] = [];
  for (const m of input.machines) {
    const asked = m.nics.flatMap((nic) => {
      const peer = membersOf(input, nic.network).find((p) => p.m.name !== m.name);
      return peer === undefined ? [] : [{ nic, from: peer.m.name }];
    })[0];
    if (asked === undefined) continue;
    const ref = nicRef(m, asked.nic);
    const tcp = m.spec.openPorts.filter((p) => p.proto !== 'udp').map((p) => p.from);
    for (const port of [...new Set(tcp)]) out.push({ kind: 'port', machine: asked.from, peer: ref, port, expect: 'open' });
    if (!tcp.includes(CLOSED_PROBE_PORT)) out.push({ kind: 'port', machine: asked.from, peer: ref, port: CLOSED_PROBE_PORT, expect: 'closed' });
  }
  return out;
}

/** The network checks of a lab, DHCP first: the other checks need the addresses it reads. */
export function planLabChecks(input: VerifyLabInput): LabCheck[] {
  return [...dhcpChecks(input), ...reachChecks(input), ...routeChecks(input), ...dnsChecks(input), ...portChecks(input)];
}

/** A check's peer column: the peer machine, or the DNS server, or the DHCP server. */
export function peerOf(c: LabCheck): string {
  switch (c.kind) {
    case 'dhcp': return c.server;
    case 'dns': return c.server;
    default: return c.peer.machine;
  }
}

/** The check column: what was asked, without the outcome. */
export function describeCheck(c: LabCheck): string {
  switch (c.kind) {
    case 'reach': return `reach ${c.peer.network} ${c.peer.address ?? `${c.peer.nic} (dhcp)`}`;
    case 'route': return `route to ${c.peer.address ?? c.peer.machine} via ${c.router} (${c.via})`;
    case 'dhcp': return `dhcp ${c.nic} in ${c.from}-${c.to}`;
    case 'dns': return `dns ${c.name} ${c.type} ${c.value}`;
    case 'port': return `tcp ${c.port} ${c.expect}`;
  }
}
