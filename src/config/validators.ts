/**
 * Small pure validators for user-supplied config values. Each returns a Check so the config model
 * can turn a failure into a diagnostic without catching exceptions; none of them throws on any
 * string input.
 */

export type Check<T> = { ok: true; value: T } | { ok: false; message: string; hint?: string };

export function ok<T>(value: T): Check<T> {
  return { ok: true, value };
}

export function fail<T = never>(message: string, hint?: string): Check<T> {
  return hint === undefined ? { ok: false, message } : { ok: false, message, hint };
}

// ---------------------------------------------------------------------------------------------
// Message helpers

const MAX_SHOWN = 64;

/**
 * Quotes user input for a message. Control characters are escaped so a stray NUL or newline in the
 * config cannot garble the terminal, and long values are cut so one bad line stays one line.
 */
export function quote(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  const chars = Array.from(out);
  if (chars.length > MAX_SHOWN) out = `${chars.slice(0, MAX_SHOWN - 1).join('')}…`;
  return `'${out}'`;
}

/** Names one offending character so the user can find it; spaces and control chars are invisible when quoted. */
function describeChar(ch: string): string {
  if (ch === ' ') return 'a space';
  if (ch === '\t') return 'a tab';
  if (ch === '\n' || ch === '\r') return 'a line break';
  const code = ch.codePointAt(0) ?? 0;
  if (code === 0) return 'a NUL character';
  if (code < 0x20 || code === 0x7f) return `control character \\x${code.toString(16).padStart(2, '0')}`;
  return `'${ch}'`;
}

function hasControl(s: string): string | undefined {
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return ch;
  }
  return undefined;
}

/** Shows a run of digits as-is unless it is long enough to need quote()'s truncation. */
function digitsShown(d: string): string {
  return d.length <= 12 ? d : quote(d);
}

function hasWhitespace(s: string): boolean {
  return /\s/u.test(s);
}

// ---------------------------------------------------------------------------------------------
// IPv4

const IPV4_EXAMPLE = 'four numbers 0-255 separated by dots, like 192.168.1.10';

/** Returns the address or the reason it is not one, so callers can phrase the subject themselves. */
function ipv4Reason(s: string): number | string {
  if (s === '') return 'it is empty';
  if (hasWhitespace(s)) return 'it contains whitespace';
  const parts = s.split('.');
  if (parts.length !== 4) return `it has ${parts.length} part${parts.length === 1 ? '' : 's'} (expected ${IPV4_EXAMPLE})`;
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? '';
    const n = i + 1;
    if (part === '') return `octet ${n} is empty`;
    if (!/^[0-9]+$/.test(part)) return `octet ${n} (${quote(part)}) is not a decimal number`;
    // inet_aton() and friends read "010" as octal 8 while others read 10; refuse to guess.
    if (part.length > 1 && part.startsWith('0')) {
      return `octet ${n} (${quote(part)}) has a leading zero, which is ambiguous (some tools read it as octal)`;
    }
    if (part.length > 3 || Number(part) > 255) return `octet ${n} is ${digitsShown(part)} (max 255)`;
    value = value * 256 + Number(part);
  }
  return value;
}

export function parseIPv4(s: string): Check<number> {
  const r = ipv4Reason(s);
  return typeof r === 'number' ? ok(r) : fail(`${quote(s)} is not an IPv4 address: ${r}`);
}

export function formatIPv4(ip: number): string {
  if (!Number.isInteger(ip) || ip < 0 || ip > 0xffffffff) {
    throw new RangeError(`formatIPv4: ${ip} is not a uint32`);
  }
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
}

/** The netmask for a prefix length, as a uint32. */
export function prefixToNetmask(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new RangeError(`prefixToNetmask: ${prefix} is not a prefix length 0-32`);
  }
  // JS shifts count modulo 32, so `x << 32` is `x`, not 0: prefix 0 needs its own case.
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

const NETMASK_EXPECTED = 'expected a dotted mask like 255.255.255.0 or a prefix length like /24';

type Reason = { reason: string; hint?: string };

function netmaskReason(s: string): number | Reason {
  if (s === '') return { reason: `it is empty (${NETMASK_EXPECTED})` };
  if (hasWhitespace(s)) return { reason: 'it contains whitespace' };
  if (s.includes('.')) {
    const ip = ipv4Reason(s);
    if (typeof ip === 'string') return { reason: ip };
    const inverted = ~ip >>> 0;
    // A valid mask is ones then zeros, so its complement is 2^k - 1, and (2^k - 1) & 2^k is 0.
    if ((inverted & (inverted + 1)) !== 0) {
      const leading = Math.clz32(inverted);
      return {
        reason: 'its one-bits are not contiguous (expected ones followed by zeros, like 255.255.255.0)',
        hint: `did you mean ${formatIPv4(prefixToNetmask(leading))} (/${leading})?`,
      };
    }
    return 32 - popcount(inverted);
  }
  const digits = s.startsWith('/') ? s.slice(1) : s;
  if (!/^[0-9]+$/.test(digits)) return { reason: NETMASK_EXPECTED };
  if (Number(digits) > 32) return { reason: `prefix length ${digitsShown(digits)} is out of range (0-32)` };
  return Number(digits);
}

/** Prefix length (0..32) from "255.255.255.0", "/24" or "24". */
export function parseNetmask(s: string): Check<number> {
  const r = netmaskReason(s);
  return typeof r === 'number' ? ok(r) : fail(`${quote(s)} is not a netmask: ${r.reason}`, r.hint);
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n >>> 0; x !== 0; x = (x & (x - 1)) >>> 0) c++;
  return c;
}

export interface Cidr {
  address: number;
  prefix: number;
}

/** "192.168.1.2/24" (or "192.168.1.2/255.255.255.0"); the host bits are kept, not masked off. */
export function parseCidr(s: string): Check<Cidr> {
  const subject = `${quote(s)} is not in CIDR notation`;
  if (s === '') return fail(`${subject}: it is empty (expected an address and prefix, like 192.168.1.2/24)`);
  if (hasWhitespace(s)) return fail(`${subject}: it contains whitespace`);
  const slash = s.indexOf('/');
  if (slash < 0) return fail(`${subject}: the '/prefix' part is missing (like ${s.includes('.') ? s : '192.168.1.2'}/24)`);
  if (s.indexOf('/', slash + 1) >= 0) return fail(`${subject}: it contains more than one '/'`);
  const addr = ipv4Reason(s.slice(0, slash));
  if (typeof addr === 'string') return fail(`${subject}: the address ${addr === 'it is empty' ? 'is empty' : `is wrong: ${addr}`}`);
  const maskPart = s.slice(slash + 1);
  if (maskPart === '') return fail(`${subject}: the prefix length after '/' is empty (expected 0-32)`);
  const prefix = netmaskReason(maskPart);
  if (typeof prefix !== 'number') return fail(`${subject}: the part after '/' is wrong: ${prefix.reason}`, prefix.hint);
  return ok({ address: addr, prefix });
}

export function networkAddress(ip: number, prefix: number): number {
  return (ip & prefixToNetmask(prefix)) >>> 0;
}

export function broadcastAddress(ip: number, prefix: number): number {
  return (ip | ~prefixToNetmask(prefix)) >>> 0;
}

export function ipInSubnet(ip: number, network: number, prefix: number): boolean {
  return networkAddress(ip, prefix) === networkAddress(network, prefix);
}

/**
 * Whether a host may be given this address. /31 (RFC 3021 point-to-point links) and /32 have no
 * network or broadcast address to avoid, so every address in them is usable.
 */
export function isUsableHost(ip: number, prefix: number): boolean {
  if (prefix >= 31) return true;
  return ip !== networkAddress(ip, prefix) && ip !== broadcastAddress(ip, prefix);
}

// ---------------------------------------------------------------------------------------------
// MAC addresses

const MAC_EXPECTED = "expected six two-digit hex groups separated by ':' or '-', like 02:00:de:ad:be:ef";

/** Normalizes to lower-case "aa:bb:cc:dd:ee:ff". */
export function parseMac(s: string): Check<string> {
  const subject = `${quote(s)} is not a MAC address`;
  if (s === '') return fail(`${subject}: it is empty (${MAC_EXPECTED})`);
  if (hasWhitespace(s)) return fail(`${subject}: it contains whitespace`);
  const hasColon = s.includes(':');
  const hasDash = s.includes('-');
  if (hasColon && hasDash) return fail(`${subject}: it mixes ':' and '-' separators`);
  if (!hasColon && !hasDash) return fail(`${subject}: ${MAC_EXPECTED}`);
  const groups = s.split(hasColon ? ':' : '-');
  if (groups.length !== 6) return fail(`${subject}: it has ${groups.length} groups (${MAC_EXPECTED})`);
  for (let i = 0; i < 6; i++) {
    const g = groups[i] ?? '';
    if (!/^[0-9a-fA-F]{2}$/.test(g)) {
      return fail(`${subject}: group ${i + 1} (${quote(g)}) is not two hex digits`);
    }
  }
  return ok(groups.join(':').toLowerCase());
}

const UNICAST_HINT = 'use a locally administered unicast address such as 02:00:de:ad:be:ef';

/** A NIC's own address must be unicast (I/G bit, the lowest bit of the first octet, clear) and not all zeros. */
export function isUnicastMac(s: string): Check<string> {
  const mac = parseMac(s);
  if (!mac.ok) return mac;
  const first = parseInt(mac.value.slice(0, 2), 16);
  if (mac.value === 'ff:ff:ff:ff:ff:ff') {
    return fail(`${quote(s)} is the broadcast MAC address, not a unicast one a network card can use`, UNICAST_HINT);
  }
  if ((first & 1) === 1) {
    return fail(
      `${quote(s)} is a multicast MAC address (the lowest bit of the first octet is set); a network card needs a unicast address`,
      UNICAST_HINT,
    );
  }
  if (mac.value === '00:00:00:00:00:00') {
    return fail(`${quote(s)} is the all-zero MAC address, which no network card may use`, UNICAST_HINT);
  }
  return ok(mac.value);
}

/**
 * VMware only accepts manually assigned ("static") MACs from its OUI 00:50:56 with the fourth
 * octet 00-3f: the rest of 00:50:56 is used by vCenter/ESXi for generated and VMkernel addresses
 * (VMware GSX/ESX admin guides, "Setting MAC addresses manually"; vSphere networking guide,
 * "VMware OUI in static MAC addresses": maximum 00:50:56:3F:FF:FF).
 */
export function isVmwareStaticMac(s: string): Check<string> {
  const mac = parseMac(s);
  if (!mac.ok) return mac;
  const octets = mac.value.split(':');
  const range = 'VMware accepts manually assigned addresses only from 00:50:56:00:00:00 to 00:50:56:3f:ff:ff';
  if (mac.value.slice(0, 8) !== '00:50:56') {
    const tail = `${octets[4] ?? '00'}:${octets[5] ?? '00'}`;
    return fail(`${quote(s)} is not a VMware static MAC address: ${range}`, `use an address such as 00:50:56:00:${tail}`);
  }
  const fourth = parseInt(octets[3] ?? '0', 16);
  if (fourth > 0x3f) {
    const example = ['00', '50', '56', (fourth & 0x3f).toString(16).padStart(2, '0'), octets[4], octets[5]].join(':');
    return fail(
      `${quote(s)} is outside VMware's static MAC range: the fourth octet is ${octets[3]} (max 3f); ${range}`,
      `use an address such as ${example}`,
    );
  }
  return ok(mac.value);
}

// ---------------------------------------------------------------------------------------------
// Ports

export interface PortRange {
  from: number;
  to: number;
}

function portReason(p: string): number | string {
  if (p === '') return 'a port number is missing';
  if (!/^[0-9]+$/.test(p)) return `${quote(p)} is not a port number`;
  if (Number(p) > 65535 || Number(p) < 1) return `port ${digitsShown(p)} is out of range (1-65535)`;
  return Number(p);
}

/** "22", "1000-2000" or "1000:2000" (iptables style). */
export function parsePortSpec(s: string): Check<PortRange> {
  const subject = `${quote(s)} is not a port or port range`;
  const hint = 'use a port like 22 or a range like 1000-2000';
  if (s === '') return fail(`${subject}: it is empty`, hint);
  if (hasWhitespace(s)) return fail(`${subject}: it contains whitespace`, hint);
  const parts = s.split(/[-:]/);
  if (parts.length > 2) return fail(`${subject}: expected one port or two ports joined by '-' or ':'`, hint);
  const from = portReason(parts[0] ?? '');
  if (typeof from === 'string') return fail(`${subject}: ${from}`, hint);
  if (parts.length === 1) return ok({ from, to: from });
  const to = portReason(parts[1] ?? '');
  if (typeof to === 'string') return fail(`${subject}: ${to}`, hint);
  if (from > to) return fail(`${subject}: ${from} is greater than ${to}`, `write the lower port first, like ${to}-${from}`);
  return ok({ from, to });
}

// ---------------------------------------------------------------------------------------------
// Host names

/** RFC 1123 host name: dot-separated labels of 1-63 letters, digits and '-', not starting or ending with '-', 253 chars max. */
export function checkHostname(s: string): Check<string> {
  const subject = `${quote(s)} is not a valid hostname`;
  if (s === '') return fail(`${subject}: it is empty`);
  for (const ch of s) {
    if (!/^[A-Za-z0-9.-]$/.test(ch)) {
      const hint = ch === '_' ? "underscores are not allowed in hostnames; use '-' instead" : undefined;
      return fail(`${subject}: ${describeChar(ch)} is not allowed (letters, digits and '-' only)`, hint);
    }
  }
  if (s.length > 253) return fail(`${subject}: it is ${s.length} characters long (max 253)`);
  if (s.startsWith('.')) return fail(`${subject}: it starts with '.'`);
  if (s.endsWith('.')) return fail(`${subject}: it ends with '.'`);
  const labels = s.split('.');
  for (const label of labels) {
    if (label === '') return fail(`${subject}: it has an empty label ('..')`);
    if (label.length > 63) return fail(`${subject}: label ${quote(label)} is ${label.length} characters long (max 63)`);
    if (label.startsWith('-')) return fail(`${subject}: label ${quote(label)} starts with '-'`);
    if (label.endsWith('-')) return fail(`${subject}: label ${quote(label)} ends with '-'`);
  }
  return ok(s);
}

export function isRfc1123Hostname(s: string): boolean {
  return checkHostname(s).ok;
}

// ---------------------------------------------------------------------------------------------
// Account names

/** Debian useradd's default NAME_REGEX (^[a-z_][a-z0-9_-]*[$]?$) plus its 32-character limit. */
export function checkPosixName(s: string, what: 'user' | 'group'): Check<string> {
  const subject = `${quote(s)} is not a valid ${what} name`;
  if (s === '') return fail(`${what} name is empty`);
  if (s === '.' || s === '..') return fail(`${subject}: '.' and '..' are reserved directory names`);
  if (s.includes('/')) return fail(`${subject}: '/' is not allowed (the name is used as a path)`);
  if (s.startsWith('-')) return fail(`${subject}: it starts with '-' (it would be read as a command-line option)`);
  if (/^[0-9]/.test(s)) return fail(`${subject}: it starts with a digit (must start with a lower-case letter or '_')`);
  if (s.startsWith('$')) return fail(`${subject}: it starts with '$' (must start with a lower-case letter or '_')`);
  const chars = Array.from(s);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] ?? '';
    if (/^[a-z0-9_-]$/.test(ch)) continue;
    if (ch === '$') {
      // Samba machine accounts end in '$'; anywhere else it is a typo or shell junk.
      if (i === chars.length - 1) continue;
      return fail(`${subject}: '$' is only allowed as the last character`);
    }
    if (/^[A-Z]$/.test(ch)) {
      const lower = s.toLowerCase();
      const hint = /^[a-z_][a-z0-9_-]*[$]?$/.test(lower) ? `use ${quote(lower)}` : undefined;
      return fail(`${subject}: upper-case ${describeChar(ch)} is not allowed (lower-case letters only)`, hint);
    }
    return fail(`${subject}: ${describeChar(ch)} is not allowed (lower-case letters, digits, '_' and '-' only)`);
  }
  if (chars.length > 32) return fail(`${subject}: it is ${chars.length} characters long (max 32)`);
  return ok(s);
}

const WINDOWS_ACCOUNT_FORBIDDEN = '"/\\[]:;|=,+*?<>@';

/**
 * Windows local account names (NetUserAdd/NetLocalGroupAdd rules): users max 20 chars, groups max
 * 256, no control chars, none of " / \ [ ] : ; | = , + * ? < > @, not only dots/spaces, not
 * ending in '.'. '@' is refused too because Windows would read "a@b" as a UPN, not a local name.
 */
export function checkWindowsAccountName(s: string, what: 'user' | 'group'): Check<string> {
  const subject = `${quote(s)} is not a valid Windows ${what} name`;
  const max = what === 'user' ? 20 : 256;
  if (s === '') return fail(`${what} name is empty (expected 1-${max} characters)`);
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f || WINDOWS_ACCOUNT_FORBIDDEN.includes(ch)) {
      return fail(`${subject}: ${describeChar(ch)} is not allowed (none of " / \\ [ ] : ; | = , + * ? < > @)`);
    }
  }
  if (/^[. ]+$/.test(s)) return fail(`${subject}: it consists only of dots and spaces`);
  if (s.endsWith('.')) return fail(`${subject}: it ends with '.'`);
  const len = Array.from(s).length;
  if (len > max) return fail(`${subject}: it is ${len} characters long (max ${max})`);
  return ok(s);
}

const NETBIOS_FORBIDDEN = ' \\/:*?"<>|,~!@#$%^&\'.(){}_';

/** NetBIOS computer name: 1-15 chars, none of the reserved punctuation, not all digits. */
export function checkWindowsComputerName(s: string): Check<string> {
  const subject = `${quote(s)} is not a valid Windows computer name`;
  if (s === '') return fail('computer name is empty (expected 1-15 characters)');
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f || NETBIOS_FORBIDDEN.includes(ch)) {
      const hint = ch === '.' ? 'a computer name is a single label; put the domain elsewhere' : "use letters, digits and '-'";
      return fail(`${subject}: ${describeChar(ch)} is not allowed in a NetBIOS name`, hint);
    }
  }
  const len = Array.from(s).length;
  if (len > 15) return fail(`${subject}: it is ${len} characters long (max 15, the NetBIOS limit)`);
  if (/^[0-9]+$/.test(s)) return fail(`${subject}: it is all digits`, 'add at least one letter');
  return ok(s);
}

/**
 * A Linux network interface name, as the guest's files and LXC name it: at most 15 bytes
 * (IFNAMSIZ 16 with the NUL), none of '/', ':' or whitespace (the kernel's dev_valid_name).
 */
export function checkInterfaceName(s: string): Check<string> {
  const subject = `${quote(s)} is not a usable interface name`;
  if (Buffer.byteLength(s) > 15) return fail(`${subject}: it is ${Buffer.byteLength(s)} bytes long (Linux takes 15 at most)`, 'use a short name like eth0');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s)) return fail(`${subject}: letters, digits, '_', '.' and '-' only, starting with a letter or digit`, 'use a name like eth0');
  return ok(s);
}

/** A value that must stay on one line: a line break or another control character would break the file it goes into. */
export function checkSingleLine(s: string): Check<string> {
  const ch = hasControl(s);
  if (ch === undefined) return ok(s);
  return fail(`the value holds ${describeChar(ch)}; every file vmgen writes it into takes one line`, "write it on one line (a triple-quoted value keeps its line breaks)");
}

// ---------------------------------------------------------------------------------------------
// Paths

/**
 * A file name or relative path that stays inside the directory it is joined to. Both '/' and '\'
 * count as separators because the same name may end up on a Windows guest.
 */
export function checkSafeRelativeName(s: string): Check<string> {
  const subject = `${quote(s)} is not a safe relative name`;
  if (s === '') return fail('name is empty');
  if (s.includes('\0')) return fail(`${subject}: it contains a NUL character`);
  const ctl = hasControl(s);
  if (ctl !== undefined) return fail(`${subject}: it contains ${describeChar(ctl)}`);
  if (s.startsWith('/') || s.startsWith('\\')) return fail(`${subject}: it is an absolute path (expected a relative one)`);
  if (/^[A-Za-z]:/.test(s)) return fail(`${subject}: it starts with a drive letter (expected a relative path)`);
  const segments = s.split(/[/\\]/);
  for (const seg of segments) {
    if (seg === '..') return fail(`${subject}: '..' would leave the directory`);
    if (seg === '.') return fail(`${subject}: it contains a '.' segment (write the path without it)`);
    if (seg === '') return fail(`${subject}: it contains an empty segment (a trailing or doubled separator)`);
    // Windows drops trailing dots from a segment, so "..." may act like ".." or "." there.
    if (/^\.+$/.test(seg)) return fail(`${subject}: ${quote(seg)} is made only of dots`);
  }
  return ok(s);
}

/** An absolute, already-normalized path inside a Linux/Unix guest, e.g. home_dir = /home/x. */
export function checkGuestAbsolutePath(s: string): Check<string> {
  const subject = `${quote(s)} is not a valid guest path`;
  if (s === '') return fail('guest path is empty');
  if (s.includes('\0')) return fail(`${subject}: it contains a NUL character`);
  const ctl = hasControl(s);
  if (ctl !== undefined) return fail(`${subject}: it contains ${describeChar(ctl)}`);
  if (s.includes('\\')) return fail(`${subject}: '\\' is not a path separator in the guest (use '/')`);
  if (!s.startsWith('/')) return fail(`${subject}: it must be absolute (start with '/')`, `for example /${s.replace(/^\.?\/*/, '')}`);
  if (s === '/') return ok(s);
  const segments = s.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (seg === '..') return fail(`${subject}: it contains a '..' segment (write the resolved path)`);
    if (seg === '.') return fail(`${subject}: it contains a '.' segment (write the path without it)`);
    // A single trailing '/' is harmless; any other empty segment is a doubled '/'.
    if (seg === '' && i !== segments.length - 1) return fail(`${subject}: it contains '//'`);
  }
  return ok(s);
}

/** An absolute path in a Windows guest, e.g. C:\\Users\\name. */
export function checkWindowsPath(p: string): Check<string> {
  if (!/^[A-Za-z]:\\/.test(p)) return fail(`'${p}' is not an absolute Windows path`, 'write it like C:\\Users\\name');
  if (p.split('\\').includes('..')) return fail(`'${p}' contains '..'`);
  if (/[<>:"|?*\u0000-\u001f]/.test(p.slice(2))) return fail(`'${p}' contains a character Windows forbids in paths`);
  return ok(p);
}

// ---------------------------------------------------------------------------------------------
// Sizes, booleans, integers

export type SizeUnit = 'MB' | 'GB' | 'B';

const SIZE_HINT = 'use a number with a unit, like 8GB or 512MB';

// Units are binary (MB = MiB = 2^20 bytes) because that is what VMware's memsize/disk sizes and
// qemu-img's M/G suffixes mean; a decimal reading would make "8GB" of RAM a non-power-of-two.
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  k: 2 ** 10,
  kb: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mb: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gb: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tb: 2 ** 40,
  tib: 2 ** 40,
};

/**
 * A size in MiB, rounded up to a whole MiB. A bare number is read in `bareUnit` because the
 * existing configs write "ram = 512" and partition "size = 5000" meaning MB.
 */
export function parseSize(s: string, bareUnit: SizeUnit): Check<number> {
  const subject = `${quote(s)} is not a size`;
  const t = s.trim();
  if (t === '') return fail('size is empty', SIZE_HINT);
  if (/^-/.test(t)) return fail(`${subject}: it is negative`, SIZE_HINT);
  const m = /^\+?([0-9]+(?:\.[0-9]+)?|\.[0-9]+)[ \t]*([A-Za-z]*)$/.exec(t);
  if (m === null) return fail(`${subject}: expected a number optionally followed by a unit`, SIZE_HINT);
  const numText = m[1] ?? '';
  const unitText = m[2] ?? '';
  const unit = unitText === '' ? bareUnit.toLowerCase() : unitText.toLowerCase();
  const mult = UNIT_BYTES[unit];
  if (mult === undefined) return fail(`${subject}: unknown unit ${quote(unitText)} (expected B, KB, MB, GB or TB)`, SIZE_HINT);
  const n = Number(numText);
  if (!Number.isFinite(n)) return fail(`${subject}: the number is too large`, SIZE_HINT);
  if (n === 0) return fail(`${subject}: it is zero (expected a size greater than zero)`, SIZE_HINT);
  if (mult === 1 && !Number.isInteger(n)) return fail(`${subject}: a byte count must be a whole number`, SIZE_HINT);
  // Multiplying/dividing by powers of two is exact in binary floating point, so ceil never rounds
  // up a value that is really a whole number of MiB.
  const mib = Math.ceil((n * mult) / 2 ** 20);
  if (!Number.isSafeInteger(mib)) return fail(`${subject}: it is too large`, SIZE_HINT);
  return ok(mib);
}

// The exact set ConfigObj's Section.as_bool()/istrue accept, so files written for the Python tool read the same.
const BOOLS: Record<string, boolean> = {
  '1': true,
  '0': false,
  yes: true,
  no: false,
  true: true,
  false: false,
  on: true,
  off: false,
};

export function parseBool(s: string): Check<boolean> {
  const v = BOOLS[s.toLowerCase()];
  if (v === undefined) {
    return fail(`${quote(s)} is not a yes/no value: expected yes/no, true/false, on/off or 1/0`);
  }
  return ok(v);
}

/** A decimal integer in [min, max]; no signs other than a leading '-', no exponents, no hex. */
export function parseIntInRange(s: string, min: number, max: number): Check<number> {
  const range = `expected a whole number from ${min} to ${max}`;
  if (s === '') return fail(`value is empty (${range})`);
  if (!/^-?[0-9]+$/.test(s)) return fail(`${quote(s)} is not a whole number (${range})`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < min || n > max) return fail(`${quote(s)} is out of range (${range})`);
  return ok(n === 0 ? 0 : n); // normalizes "-0"
}

// ---------------------------------------------------------------------------------------------
// Suggestions

/** Edit distance over code points (insert, delete, substitute all cost 1). */
export function levenshtein(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  if (x.length === 0) return y.length;
  if (y.length === 0) return x.length;
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  let cur = new Array<number>(y.length + 1).fill(0);
  for (let i = 1; i <= x.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[y.length] ?? 0;
}

/**
 * The candidate the user most likely meant, or undefined. Case-insensitive; accepts an edit
 * distance up to max(1, floor(len/3)) so short keys only tolerate one typo, and otherwise a
 * shared prefix of at least 3 characters ("mem" → "memory") or a substring of at least 4 that
 * covers half the longer word ("name" → "hostname" fits, "ram" → "program" does not).
 * Ties keep the first candidate in iteration order.
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  const len = Array.from(needle).length;
  if (len === 0) return undefined;
  const limit = Math.max(1, Math.floor(len / 3));
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    const d = levenshtein(needle, c);
    let score = Infinity;
    if (d <= limit) {
      score = d;
    } else {
      const [short, long] = c.length < needle.length ? [c, needle] : [needle, c];
      const prefix = short.length >= 3 && long.startsWith(short);
      // Bare substrings need more overlap, or "ram" would suggest "program".
      const inside = short.length >= 4 && 2 * short.length >= long.length && long.includes(short);
      if (prefix || inside) {
        // Ranks after every real typo match; among containment matches the closer length wins.
        score = limit + 1 + (long.length - short.length) / (long.length + 1);
      }
    }
    if (score < bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Controller positions and repository lines

/** The largest bus or unit number a position may name; every controller's range lies far below. */
export const MAX_POSITION_PART = 99;

/**
 * `bus:unit` on a controller, normalized ('00:01' is '0:1'). Each number is checked here, at the
 * value's line: read later with Number(), 400 nines became Infinity ("ideInfinity:0").
 */
export function parsePosition(s: string): Check<string> {
  const hint = "a position is 'bus:unit', like 0:0 or 1:0";
  const m = /^([0-9]+):([0-9]+)$/.exec(s);
  if (!m) return fail(`${quote(s)} is not a position`, hint);
  const bus = m[1]!.replace(/^0+(?=.)/, '');
  const unit = m[2]!.replace(/^0+(?=.)/, '');
  for (const [what, digits] of [['bus', bus], ['unit', unit]] as const) {
    if (digits.length > 2 || Number(digits) > MAX_POSITION_PART) {
      return fail(`${quote(s)}: ${what} ${digitsShown(digits)} is out of range (0-${MAX_POSITION_PART})`, hint);
    }
  }
  return ok(`${bus}:${unit}`);
}

/**
 * What `^deb(-src)?\s+(\[[^\]]*\]\s+)?\S+:\/\/\S+\s+\S+` accepts (`deb[-src] [options] URI SUITE…`,
 * apt's one-line style), found by one scan from the left. That pattern backtracked over every '://'
 * of a long word: a line of 62,000 'a://' took 18 s, and the service checks these lines.
 */
export function isAptSourceLine(line: string): boolean {
  const n = line.length;
  const blank = (i: number): boolean => i < n && /\s/.test(line[i]!);
  const skipBlanks = (i: number): number => {
    while (blank(i)) i++;
    return i;
  };
  const wordEnd = (i: number): number => {
    while (i < n && !blank(i)) i++;
    return i;
  };
  // \S+:\/\/\S+\s+\S+ at i: `\s+` must follow, so the URI is the whole word, with text on both
  // sides of a '://', and a blank and another word after it.
  const uriThenSuite = (i: number): boolean => {
    const end = wordEnd(i);
    const scheme = line.indexOf('://', i + 1);
    if (scheme === -1 || scheme + 3 >= end) return false;
    const suite = skipBlanks(end);
    return suite > end && suite < n;
  };
  const typeEnd = wordEnd(0);
  const type = line.slice(0, typeEnd);
  if (type !== 'deb' && type !== 'deb-src') return false;
  const start = skipBlanks(typeEnd);
  if (start === typeEnd) return false;
  if (line[start] === '[') {
    const close = line.indexOf(']', start);
    const after = close === -1 ? -1 : skipBlanks(close + 1);
    if (close !== -1 && after > close + 1 && uriThenSuite(after)) return true;
  }
  return uriThenSuite(start);
}
