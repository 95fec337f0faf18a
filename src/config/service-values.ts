import { DNS_RECORD_TYPES } from './model-services.js';
import * as v from './validators.js';

/*
 * The small languages inside service values: a DNS record (`MX 10 mail`), a DHCP range
 * (`10.0.1.100 - 10.0.1.199`), a fixed host (`MAC, ADDRESS`), a file mode. One parser each, used by
 * validation (errors at the value's line) and by resolveSpec (which trusts a validated config).
 */

export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

export interface DnsRecord {
  /** The owner name as written: `@`, a relative name (`www`), or an absolute one ending in a dot. */
  name: string;
  type: DnsRecordType;
  /** The value in zone-file syntax: an address, a host name, `10 mail`, or TXT text unquoted. */
  value: string;
  /** MX only. */
  preference?: number;
}

const LABEL = /^(?:\*|[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)$/;

/** An owner or target name in a zone: `@`, labels, optionally absolute with a final dot. */
export function checkZoneName(s: string): v.Check<string> {
  if (s === '@') return v.ok(s);
  const body = s.endsWith('.') ? s.slice(0, -1) : s;
  if (body.length === 0 || body.length > 253 || !body.split('.').every((l) => LABEL.test(l))) {
    return v.fail(`${v.quote(s)} is not a DNS name`, 'write a label (www), @ for the zone itself, or a full name ending in a dot (www.lab.example.)');
  }
  return v.ok(s);
}

/** The absolute name (no final dot, lower case) of an owner name in a zone. */
export function absoluteName(name: string, zone: string): string {
  const z = zone.toLowerCase().replace(/\.$/, '');
  if (name === '@') return z;
  if (name.endsWith('.')) return name.slice(0, -1).toLowerCase();
  return `${name.toLowerCase()}.${z}`;
}

/** Whether an absolute name is the zone or below it. */
export function inZone(absolute: string, zone: string): boolean {
  const z = zone.toLowerCase().replace(/\.$/, '');
  return absolute === z || absolute.endsWith(`.${z}`);
}

/** `TYPE VALUE` as written in [dns] [[zone]] [[[records]]]. */
export function parseDnsRecord(name: string, text: string): v.Check<DnsRecord> {
  const m = /^\s*([A-Za-z]+)\s+(.+?)\s*$/.exec(text);
  if (!m) return v.fail(`${v.quote(text)} is not a record`, 'write TYPE VALUE, e.g. A 10.0.1.10 or MX 10 mail');
  const type = m[1]!.toUpperCase();
  const value = m[2]!;
  if (!(DNS_RECORD_TYPES as readonly string[]).includes(type)) {
    return v.fail(`unknown record type ${v.quote(m[1]!)}`, `vmgen writes ${DNS_RECORD_TYPES.join(', ')} records`);
  }
  const t = type as DnsRecordType;
  switch (t) {
    case 'A': {
      const ip = v.parseIPv4(value);
      return ip.ok ? v.ok({ name, type: t, value: v.formatIPv4(ip.value) }) : v.fail(`an A record needs an IPv4 address, not ${v.quote(value)}`, 'e.g. A 10.0.1.10');
    }
    case 'AAAA':
      return isIPv6(value) ? v.ok({ name, type: t, value: value.toLowerCase() }) : v.fail(`an AAAA record needs an IPv6 address, not ${v.quote(value)}`, 'e.g. AAAA fd00:1::10');
    case 'CNAME':
    case 'NS': {
      const n = checkZoneName(value);
      return n.ok && value !== '@' ? v.ok({ name, type: t, value }) : v.fail(`a ${t} record needs a host name, not ${v.quote(value)}`, 'a label in the zone (www) or a full name ending in a dot');
    }
    case 'MX': {
      const mx = /^(\d{1,5})\s+(\S+)$/.exec(value);
      const pref = mx ? Number(mx[1]) : NaN;
      if (!mx || pref > 65535 || !checkZoneName(mx[2]!).ok || mx[2] === '@') {
        return v.fail(`an MX record is a preference and a host, not ${v.quote(value)}`, 'e.g. MX 10 mail');
      }
      return v.ok({ name, type: t, value: mx[2]!, preference: pref });
    }
    case 'TXT': {
      const text = value.replace(/^"(.*)"$/, '$1');
      if (text.length > 255 || /["\\]/.test(text) || /[^\x20-\x7e]/.test(text)) {
        return v.fail('a TXT value is up to 255 printable ASCII characters without quotes or backslashes', 'e.g. TXT v=spf1 -all');
      }
      return v.ok({ name, type: t, value: text });
    }
  }
}

/** IPv6 in any textual form inet_pton accepts (no zone index). */
export function isIPv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || s.length > 45) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string): string[] | undefined => (h === '' ? [] : h.split(':'));
  const parts = halves.map(groups);
  if (parts.some((p) => p === undefined || p.some((g) => g === ''))) return false;
  const all = parts.flat() as string[];
  const last = all.at(-1);
  const v4 = last !== undefined && last.includes('.');
  if (v4 && !v.parseIPv4(last).ok) return false;
  const hex = v4 ? all.slice(0, -1) : all;
  if (!hex.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  const count = hex.length + (v4 ? 2 : 0);
  return halves.length === 2 ? count < 8 : count === 8;
}

export interface AddressRange {
  from: string;
  to: string;
}

/** `FIRST - LAST` (blanks optional), first not after last. */
export function parseRange(s: string): v.Check<AddressRange> {
  const m = /^\s*(\S+?)\s*-\s*(\S+)\s*$/.exec(s);
  const a = m ? v.parseIPv4(m[1]!) : undefined;
  const b = m ? v.parseIPv4(m[2]!) : undefined;
  if (!a?.ok || !b?.ok) return v.fail(`${v.quote(s)} is not an address range`, 'write FIRST - LAST, e.g. 10.0.1.100 - 10.0.1.199');
  if (a.value > b.value) return v.fail(`the range ${v.quote(s)} ends before it starts`, 'write the lower address first');
  return v.ok({ from: v.formatIPv4(a.value), to: v.formatIPv4(b.value) });
}

export interface FixedHost {
  mac: string;
  address: string;
}

/** `MAC, ADDRESS` (a list of two) for a DHCP reservation. */
export function parseFixedHost(items: readonly string[]): v.Check<FixedHost> {
  const hint = 'write NAME = MAC, ADDRESS, e.g. printer = 52:54:00:00:01:50, 10.0.1.50';
  if (items.length !== 2) return v.fail('a fixed host is a MAC address and an IPv4 address', hint);
  const mac = v.isUnicastMac(items[0]!.toLowerCase());
  if (!mac.ok) return v.fail(mac.message, mac.hint ?? hint);
  const ip = v.parseIPv4(items[1]!);
  if (!ip.ok) return v.fail(`${v.quote(items[1]!)} is not an IPv4 address`, hint);
  return v.ok({ mac: mac.value, address: v.formatIPv4(ip.value) });
}

/** Octal permission bits as written (0644, 755). */
export function parseMode(s: string): number {
  return Number.parseInt(s, 8);
}
