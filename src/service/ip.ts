import { isIP } from 'node:net';

/** Address arithmetic for the service's checks: which addresses are not public, and client keys. */

export function ipv4Number(text: string): number {
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

// RFC 6890 special-purpose blocks: nothing a public mirror lives in.
const V4_BLOCKS: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, 'a "this network" address'],
  ['10.0.0.0', 8, 'a private address'],
  ['100.64.0.0', 10, 'a shared (carrier NAT) address'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address'],
  ['172.16.0.0', 12, 'a private address'],
  ['192.0.0.0', 24, 'a protocol-assignment address'],
  ['192.168.0.0', 16, 'a private address'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved address'],
];

export function ipv4Problem(text: string): string | undefined {
  const n = ipv4Number(text);
  for (const [base, bits, what] of V4_BLOCKS) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if (((n & mask) >>> 0) === ((ipv4Number(base) & mask) >>> 0)) return what;
  }
  return undefined;
}

/** The 8 groups of an IPv6 address as numbers (WHATWG URL has already normalized it). */
export function ipv6Groups(text: string): number[] {
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const part = (s: string | undefined): number[] => (s ? s.split(':').flatMap((g) => (g.includes('.')
    ? [ipv4Number(g) >>> 16, ipv4Number(g) & 0xffff] : [parseInt(g, 16)])) : []);
  const h = part(head);
  const t = part(tail);
  return tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

export function ipv6Problem(text: string): string | undefined {
  const g = ipv6Groups(text);
  if (g.every((x) => x === 0)) return 'the unspecified address';
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return 'a loopback address';
  const embedded = `${g[6]! >>> 8}.${g[6]! & 0xff}.${g[7]! >>> 8}.${g[7]! & 0xff}`;
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach an IPv4 host.
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return ipv4Problem(embedded);
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return ipv4Problem(embedded);
  if ((g[0]! & 0xfe00) === 0xfc00) return 'a unique local (private) address';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'a site-local address';
  if ((g[0]! & 0xff00) === 0xff00) return 'a multicast address';
  return undefined;
}

/**
 * The rate-limit key of a client address: an IPv4 address, or the /64 of an IPv6 one (a host is
 * routinely given a whole /64, so single addresses would be a budget per guess).
 */
export function clientAddressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  return `${ipv6Groups(ip.toLowerCase()).slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}
