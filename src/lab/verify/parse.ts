import { formatIPv4, ipInSubnet, parseIPv4 } from '../../config/validators.js';

/*
 * Readers of what a guest's kernel and tools print, for the lab checks. They read /proc files and
 * the output of programs every Debian guest has, so no check needs a package the lab did not ask for.
 */

export interface KernelRoute {
  iface: string;
  destination: string;
  gateway: string;
  prefix: number;
}

/** /proc/net/route stores addresses as the host's (little-endian) 32-bit words in hex. */
function hexAddress(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

function maskPrefix(mask: string): number {
  const n = parseIPv4(mask);
  if (!n.ok) return 0;
  let bits = 0;
  for (let v = n.value >>> 0; v & 0x80000000; v = (v << 1) >>> 0) bits++;
  return bits;
}

export function parseProcNetRoute(text: string): KernelRoute[] {
  return text.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 8).map((f) => ({
    iface: f[0]!, destination: hexAddress(f[1]!), gateway: hexAddress(f[2]!), prefix: maskPrefix(hexAddress(f[7]!)),
  }));
}

/** The route the kernel picks for `address` (longest prefix), or undefined when none matches. */
export function routeTo(routes: readonly KernelRoute[], address: string): KernelRoute | undefined {
  const ip = parseIPv4(address);
  if (!ip.ok) return undefined;
  return routes
    .filter((r) => { const d = parseIPv4(r.destination); return d.ok && ipInSubnet(ip.value, d.value, r.prefix); })
    .sort((a, b) => b.prefix - a.prefix)[0];
}

/** TCP ports in the LISTEN state (0A) in /proc/net/tcp or tcp6. */
export function listeningTcpPorts(text: string): Set<number> {
  const ports = new Set<number>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] !== '0A') continue;
    const port = Number.parseInt(f[1]?.split(':').pop() ?? '', 16);
    if (Number.isInteger(port)) ports.add(port);
  }
  return ports;
}

/** The TTL of the first reply ping printed. */
export function pingTtl(stdout: string): number | undefined {
  const m = /\bttl=(\d+)/.exec(stdout);
  return m ? Number(m[1]) : undefined;
}

/** IPv4 addresses in whitespace-separated output (`hostname -I`, `getent ahostsv4`'s first column). */
export function ipv4Words(text: string): string[] {
  return text.split(/\s+/).filter((w) => { const p = parseIPv4(w); return p.ok && formatIPv4(p.value) === w; });
}

/** The first address in the subnet. */
export function addressIn(addresses: readonly string[], subnet: string, prefix: number): string | undefined {
  const net = parseIPv4(subnet);
  if (!net.ok) return undefined;
  return addresses.find((a) => { const p = parseIPv4(a); return p.ok && ipInSubnet(p.value, net.value, prefix); });
}

export function inRange(address: string, from: string, to: string): boolean {
  const [a, f, t] = [address, from, to].map(parseIPv4);
  return Boolean(a?.ok && f?.ok && t?.ok && a.value >= f.value && a.value <= t.value);
}
