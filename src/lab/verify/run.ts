import { probe } from '../../communicators/probe.js';
import type { Communicator } from '../../communicators/types.js';
import { shown } from '../../families/check-kit.js';
import type { LabNetwork } from '../types.js';
import { addressIn, inRange, ipv4Words, listeningTcpPorts, parseProcNetRoute, pingTtl, routeTo } from './parse.js';
import { describeCheck, peerOf, type LabCheck, type LabCheckKind, type NicRef } from './plan.js';

/*
 * Runs the planned lab checks. Inside a guest only through its communicator, with programs every
 * Debian guest has (hostname, getent, bash's /dev/tcp, timeout) and /proc; ICMP from the host's
 * ping inside the machine's own network namespace when the runtime has one there (containers), as
 * guests have no ping. A TCP connection stands in for ICMP where it has not (a VM).
 */

/** How the runner reaches one running machine of the lab. */
export interface MachineAccess {
  comm: Communicator;
  /** Sends one ICMP echo from the machine's network stack; absent for a VM. */
  ping?(address: string, signal?: AbortSignal): Promise<{ ok: boolean; stdout: string; detail: string }>;
  /** Ends the session (a console login); absent when there is none to end. */
  close?(): Promise<void>;
}

export interface LabCheckResult {
  machine: string;
  peer: string;
  kind: LabCheckKind | 'machine';
  check: string;
  /** 'skip': the check does not apply as the lab runs (an open port nothing listens on). */
  status: 'ok' | 'FAIL' | 'skip';
  detail: string;
}

const TCP_TIMEOUT_S = 3;
const DHCP_WAIT_MS = 30_000;

/** Connects from inside the guest; address and port reach bash as $0 and $1, never as code. */
const TCP_SCRIPT = 'exec 3<>"/dev/tcp/$0/$1"';

async function tcpConnect(comm: Communicator, address: string, port: number): Promise<'open' | 'refused' | 'timeout' | string> {
  const r = await probe(comm, ['timeout', String(TCP_TIMEOUT_S), 'bash', '-c', TCP_SCRIPT, address, String(port)]);
  if (r.exitCode === 0) return 'open';
  if (r.exitCode === 124) return 'timeout';
  if (/refused/i.test(r.stderr)) return 'refused';
  return `exit ${r.exitCode}: ${shown(r.stderr.trim().split('\n').pop() ?? '')}`;
}

async function readProc(comm: Communicator, path: string): Promise<string> {
  const r = await probe(comm, ['cat', path]);
  return r.exitCode === 0 ? r.stdout : '';
}

async function guestAddresses(comm: Communicator): Promise<string[]> {
  const r = await probe(comm, ['hostname', '-I']);
  return r.exitCode === 0 ? ipv4Words(r.stdout) : [];
}

async function listening(comm: Communicator): Promise<Set<number>> {
  const text = (await readProc(comm, '/proc/net/tcp')) + (await readProc(comm, '/proc/net/tcp6'));
  return listeningTcpPorts(text);
}

interface Ctx {
  access: ReadonlyMap<string, MachineAccess>;
  networks: readonly LabNetwork[];
  /** machine/nic → the address it holds, filled by the DHCP checks. */
  dhcpAddresses: Map<string, string>;
  /** Who gives DHCP NICs their addresses when it is not the lab's DHCP server (podman): the check then says so and skips. */
  leasesBy?: string;
  signal?: AbortSignal;
}

function accessOf(ctx: Ctx, machine: string): MachineAccess {
  const a = ctx.access.get(machine);
  if (a === undefined) throw new Error(`${machine} is not running`);
  return a;
}

function addressOf(ctx: Ctx, peer: NicRef): string {
  const a = peer.address ?? ctx.dhcpAddresses.get(`${peer.machine}/${peer.nic}`);
  if (a === undefined) throw new Error(`${peer.machine}'s ${peer.nic} has no DHCP address`);
  return a;
}

type Outcome = { status: 'ok' | 'FAIL' | 'skip'; detail: string };
const ok = (detail: string): Outcome => ({ status: 'ok', detail });
const bad = (detail: string): Outcome => ({ status: 'FAIL', detail });

async function reach(ctx: Ctx, machine: string, address: string): Promise<Outcome & { ttl?: number }> {
  const a = accessOf(ctx, machine);
  if (a.ping) {
    // The first echo can be lost while ARP resolves on a bridge that just came up.
    let last = '';
    for (let i = 0; i < 3; i++) {
      const r = await a.ping(address, ctx.signal);
      if (r.ok) { const ttl = pingTtl(r.stdout); return { ...ok(`ping ${address}: ttl ${ttl ?? '?'}`), ...(ttl === undefined ? {} : { ttl }) }; }
      last = r.detail;
    }
    return bad(`ping ${address}: ${last}`);
  }
  // A refusal is an answer from the peer's stack: the peer is reachable.
  const r = await tcpConnect(a.comm, address, 22);
  return r === 'open' || r === 'refused' ? ok(`tcp ${address}:22 ${r}`) : bad(`tcp ${address}:22 ${r}`);
}

const RUNNERS: { [K in LabCheckKind]: (ctx: Ctx, c: Extract<LabCheck, { kind: K }>) => Promise<Outcome> } = {
  async dhcp(ctx, c) {
    const net = ctx.networks.find((n) => n.name === c.network);
    if (net === undefined) return bad(`no network ${c.network}`);
    const comm = accessOf(ctx, c.machine).comm;
    const subnet = net.subnet.split('/')[0]!;
    const deadline = Date.now() + DHCP_WAIT_MS;
    let held: string[] = [];
    for (;;) {
      held = await guestAddresses(comm);
      const a = addressIn(held, subnet, net.prefix);
      if (a !== undefined) {
        ctx.dhcpAddresses.set(`${c.machine}/${c.nic}`, a);
        if (!inRange(a, c.from, c.to)) return bad(`holds ${a}, outside ${c.from}-${c.to}`);
        return ctx.leasesBy === undefined ? ok(`holds ${a}`) : { status: 'skip', detail: `holds ${a}, given by ${ctx.leasesBy} from the lab's range; the lab's DHCP server is not asked` };
      }
      if (Date.now() > deadline) return bad(`no address in ${net.subnet} (holds ${held.join(' ') || 'none'})`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  },
  async reach(ctx, c) {
    return reach(ctx, c.machine, addressOf(ctx, c.peer));
  },
  async route(ctx, c) {
    const address = addressOf(ctx, c.peer);
    const routes = parseProcNetRoute(await readProc(accessOf(ctx, c.machine).comm, '/proc/net/route'));
    const route = routeTo(routes, address);
    if (route === undefined) return bad(`no route to ${address}`);
    if (route.gateway !== c.via) return bad(`the route to ${address} goes via ${route.gateway === '0.0.0.0' ? `${route.iface} directly` : route.gateway}, not ${c.via}`);
    const r = await reach(ctx, c.machine, address);
    if (r.status !== 'ok') return r;
    // Linux answers with TTL 64; one router on the way takes one off (none when the peer is the router).
    const hops = c.peer.machine === c.router ? 0 : 1;
    if (r.ttl !== undefined && r.ttl !== 64 - hops) return bad(`${r.detail}: want ttl ${64 - hops} (${hops} router${hops === 1 ? '' : 's'} on the way)`);
    return ok(`via ${route.gateway} (${route.iface}); ${r.detail}`);
  },
  async dns(ctx, c) {
    const comm = accessOf(ctx, c.machine).comm;
    const lookup = async (name: string): Promise<string[]> => {
      const r = await probe(comm, ['getent', 'ahostsv4', name]);
      return r.exitCode === 0 ? [...new Set(ipv4Words(r.stdout.split('\n').map((l) => l.split(/\s+/)[0] ?? '').join(' ')))] : [];
    };
    if (c.type === 'A') {
      const got = await lookup(c.name);
      return got.includes(c.value) ? ok(`${c.name} is ${got.join(' ')}`) : bad(`${c.name} resolves to ${got.join(' ') || 'nothing'}, want ${c.value}`);
    }
    if (c.type === 'CNAME') {
      const target = c.value.endsWith('.') ? c.value.slice(0, -1) : `${c.value}.${c.name.split('.').slice(1).join('.')}`;
      const [got, want] = [await lookup(c.name), await lookup(target)];
      return got.length > 0 && got.join() === want.join() ? ok(`${c.name} is ${target} (${got.join(' ')})`) : bad(`${c.name} resolves to ${got.join(' ') || 'nothing'}, ${target} to ${want.join(' ') || 'nothing'}`);
    }
    const r = await probe(comm, ['dig', '+short', c.type, c.name]);
    if (r.exitCode === 127) return { status: 'skip', detail: `${c.machine} has no dig to ask for a ${c.type} record` };
    const value = c.value.replace(/\.$/, '');
    return r.stdout.split('\n').some((l) => l.replace(/"/g, '').replace(/\.$/, '').includes(value)) ? ok(`${c.type} ${shown(r.stdout.trim())}`) : bad(`${c.type} ${c.name}: ${shown(r.stdout.trim()) || 'no answer'}`);
  },
  async port(ctx, c) {
    const address = addressOf(ctx, c.peer);
    if (c.expect === 'open' && !(await listening(accessOf(ctx, c.peer.machine).comm)).has(c.port)) {
      return { status: 'skip', detail: `nothing listens on ${c.peer.machine}:${c.port}` };
    }
    const r = await tcpConnect(accessOf(ctx, c.machine).comm, address, c.port);
    if (c.expect === 'open') return r === 'open' ? ok(`${address}:${c.port} answers`) : bad(`${address}:${c.port} ${r}`);
    return r === 'open' ? bad(`${address}:${c.port} answers`) : ok(`${address}:${c.port} ${r}`);
  },
};

async function runOne(ctx: Ctx, c: LabCheck): Promise<LabCheckResult> {
  const head = { machine: c.machine, peer: peerOf(c), kind: c.kind, check: describeCheck(c) };
  try {
    const run = RUNNERS[c.kind] as (ctx: Ctx, c: LabCheck) => Promise<Outcome>;
    return { ...head, ...(await run(ctx, c)) };
  } catch (err) {
    return { ...head, status: 'FAIL', detail: `could not check: ${shown(err instanceof Error ? err.message : String(err))}` };
  }
}

/**
 * The DHCP checks first (the others need the addresses they read), then the rest, one machine's
 * checks in order and the machines in parallel: a serial console carries one command at a time.
 */
export async function runLabChecks(checks: readonly LabCheck[], access: ReadonlyMap<string, MachineAccess>, networks: readonly LabNetwork[], signal?: AbortSignal, leasesBy?: string): Promise<LabCheckResult[]> {
  const ctx: Ctx = { access, networks, dhcpAddresses: new Map(), ...(signal ? { signal } : {}), ...(leasesBy === undefined ? {} : { leasesBy }) };
  const byMachine = async (list: readonly LabCheck[]): Promise<Map<LabCheck, LabCheckResult>> => {
    const groups = new Map<string, LabCheck[]>();
    for (const c of list) groups.set(c.machine, [...(groups.get(c.machine) ?? []), c]);
    const out = new Map<LabCheck, LabCheckResult>();
    await Promise.all([...groups.values()].map(async (g) => { for (const c of g) out.set(c, await runOne(ctx, c)); }));
    return out;
  };
  const first = await byMachine(checks.filter((c) => c.kind === 'dhcp'));
  const rest = await byMachine(checks.filter((c) => c.kind !== 'dhcp'));
  return checks.map((c) => first.get(c) ?? rest.get(c)!);
}
