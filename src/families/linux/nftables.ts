import type { ResolvedPort, ResolvedSpec } from '../../config/resolve.js';
import type { ResolvedRouter } from '../../config/resolve-services.js';
import { quote } from '../../config/validators.js';
import { natNic, routedNics } from './services/router.js';

/*
 * The guest's firewall as one nftables ruleset (/etc/nftables.conf, loaded by nftables.service).
 * Pure: the same spec always gives the same text, so it is golden-tested.
 *
 * Raw rules from [network] firewall-rules go verbatim into the input chain. Verbatim is only safe
 * while a rule stays one rule, so checkRawNftRule refuses what would let it act outside its line:
 *  - line breaks and other control characters, and ';': both end a statement, so whatever follows
 *    would be a new statement of the chain or, after a '}', of the ruleset;
 *  - '\': nft joins a line ending in it with the next one, here the chain's closing brace;
 *  - '#': it would comment out the rest of the line, which hides mistakes;
 *  - a '}' that closes nothing the rule opened (it would close the input chain), a '{' left open,
 *    an unclosed '"', and braces inside quotes (a lone brace there is how an imbalance hides).
 *    Balanced braces stay allowed: anonymous sets and verdict maps, `tcp dport { 22, 80 } accept`,
 *    are everyday nft.
 *  - a first word that nft reads as a statement about the chain, not a rule: `policy accept`
 *    would open the firewall, `type filter hook output …` re-hooks the chain, `include` and
 *    `define` pull in or change other text. nft accepts all of these inside a chain block.
 *  - anything but printable ASCII, so what the user sees in the config is what nft reads.
 */

export type RawRuleCheck = { ok: true } | { ok: false; message: string; hint: string };

/** Chain-block statements nft accepts where a rule could stand (its parser's chain_block and common_block). */
const CHAIN_LEVEL_WORDS = new Set(['type', 'hook', 'priority', 'policy', 'flags', 'comment', 'devices', 'device', 'include', 'define', 'redefine', 'undefine']);

const RULE_EXAMPLE = 'a rule matches packets and ends in a verdict, like: tcp dport 8080 accept';

export function checkRawNftRule(rule: string): RawRuleCheck {
  const subject = `firewall rule ${quote(rule)}`;
  const fail = (why: string, hint: string): RawRuleCheck => ({ ok: false, message: `${subject} ${why}`, hint });
  if (rule.trim() === '') return fail('is empty', RULE_EXAMPLE);
  const bad = forbiddenCharacter(rule);
  if (bad !== undefined) return fail(bad.why, bad.hint);
  const structure = braceAndQuoteProblem(rule);
  if (structure !== undefined) return fail(structure, 'write sets within one rule, like: tcp dport { 22, 80 } accept');
  const first = (rule.trim().split(/\s+/)[0] ?? '').toLowerCase();
  if (CHAIN_LEVEL_WORDS.has(first)) {
    return fail(`is not a rule: nft would read '${first}' as a setting of the input chain itself`, RULE_EXAMPLE);
  }
  return { ok: true };
}

function forbiddenCharacter(rule: string): { why: string; hint: string } | undefined {
  for (const ch of rule) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\n' || ch === '\r') return { why: 'contains a line break', hint: 'give each rule its own firewall-rules entry' };
    if (code < 0x20 || code === 0x7f) return { why: `contains control character \\x${code.toString(16).padStart(2, '0')}`, hint: 'use plain spaces between words' };
    if (code > 0x7e) return { why: `contains '${ch}' (only printable ASCII is allowed)`, hint: 'write comments and names in ASCII' };
    if (ch === ';') return { why: "contains ';', which would end the rule and start another statement", hint: 'give each rule its own firewall-rules entry' };
    if (ch === '#') return { why: "contains '#', which starts a comment in nft", hint: 'use nft\'s own comment statement: … accept comment "why"' };
    if (ch === '\\') return { why: "contains '\\', which nft reads as a line continuation", hint: 'remove the backslash' };
  }
  return undefined;
}

/** nft strings have no escapes (its scanner reads "[^"]*"), so a plain scan finds every quote. */
function braceAndQuoteProblem(rule: string): string | undefined {
  let depth = 0;
  let inQuote = false;
  for (const ch of rule) {
    if (ch === '"') inQuote = !inQuote;
    else if (inQuote && (ch === '{' || ch === '}')) return `has '${ch}' inside a quoted string`;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth < 0) return "has a '}' without a matching '{' (it would close the input chain)";
  }
  if (inQuote) return "has an unclosed '\"'";
  if (depth > 0) return "has a '{' without a matching '}'";
  return undefined;
}

const COMMENT_MAX = 128; // NFTNL_UDATA_COMMENT_MAXLEN: nft refuses longer comments.

/** A port description as an nft comment: safe characters only, runs of others become one space. */
export function sanitizeNftComment(text: string): string {
  return text.replace(/[^A-Za-z0-9 ._,:/+=@()-]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, COMMENT_MAX).trim();
}

/** One rule per protocol: 'all' is tcp and udp, which reads plainer than a set plus `th dport`. */
export function renderPortRules(port: ResolvedPort): string[] {
  if (!isPort(port.from) || !isPort(port.to) || port.from > port.to) {
    throw new Error(`invalid port range ${port.from}-${port.to}: ports are 1-65535, lower first`);
  }
  const ports = port.from === port.to ? `${port.from}` : `${port.from}-${port.to}`;
  const comment = port.description === undefined ? '' : sanitizeNftComment(port.description);
  const suffix = comment === '' ? '' : ` comment "${comment}"`;
  const protos = port.proto === 'all' ? ['tcp', 'udp'] : [port.proto];
  return protos.map((proto) => `${proto} dport ${ports} accept${suffix}`);
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

// Errors that path MTU discovery, traceroute and ping rely on; dropping them breaks connections
// in ways that are hard to trace back to the firewall.
const ICMP_TYPES = ['echo-request', 'destination-unreachable', 'time-exceeded', 'parameter-problem'];
// IPv6 also needs neighbour discovery (its ARP) and router adverts, or it does not work at all.
const ICMPV6_TYPES = [
  'echo-request', 'destination-unreachable', 'packet-too-big', 'time-exceeded', 'parameter-problem',
  'nd-router-advert', 'nd-neighbor-solicit', 'nd-neighbor-advert', 'mld-listener-query',
];

/** With a [router], the forward chain lets the routed NICs' traffic out and a nat table masquerades it. */
export function renderNftablesRuleset(spec: Pick<ResolvedSpec, 'openPorts' | 'rawRules'>, router?: ResolvedRouter): string {
  for (const rule of spec.rawRules) {
    const r = checkRawNftRule(rule);
    if (!r.ok) throw new Error(`${r.message} (${r.hint})`);
  }
  const input = [
    'type filter hook input priority filter; policy drop;',
    'ct state established,related accept',
    'ct state invalid drop',
    'iif lo accept',
    `icmp type { ${ICMP_TYPES.join(', ')} } accept`,
    `icmpv6 type { ${ICMPV6_TYPES.join(', ')} } accept`,
    ...section('open ports, from [network] open_ports', spec.openPorts.flatMap(renderPortRules)),
    ...section('raw rules, from [network] firewall-rules', spec.rawRules.map((r) => r.trim())),
  ];
  return [
    '#!/usr/sbin/nft -f',
    '# Generated by vmgen. Everything not accepted below is dropped; outgoing traffic is allowed.',
    '',
    'flush ruleset',
    '',
    'table inet filter {',
    ...chain('input', input),
    '',
    ...chain('forward', ['type filter hook forward priority filter; policy drop;', ...(router === undefined ? [] : forwardRules(router))]),
    '',
    ...chain('output', ['type filter hook output priority filter; policy accept;']),
    '}',
    ...(router === undefined ? [] : natTable(router)),
    '',
  ].join('\n');
}

/** nft's own notation: one interface bare, several as an anonymous set. */
function ifaceMatch(keyword: 'iifname' | 'oifname', nics: readonly string[]): string {
  const names = nics.map((n) => `"${n}"`);
  return names.length === 1 ? `${keyword} ${names[0]}` : `${keyword} { ${names.join(', ')} }`;
}

function forwardRules(router: ResolvedRouter): string[] {
  const routed = routedNics(router);
  return [
    '# routing, from [router]: out from the routed NICs, replies back',
    'ct state established,related accept',
    'ct state invalid drop',
    ...(routed.length === 0 ? [] : [`${ifaceMatch('iifname', routed)} accept`]),
  ];
}

function natTable(router: ResolvedRouter): string[] {
  const nat = natNic(router);
  if (nat === undefined) return [];
  return [
    '',
    '# NAT, from [router] nat: what leaves through this NIC leaves with its address',
    'table ip nat {',
    ...chain('postrouting', ['type nat hook postrouting priority srcnat; policy accept;', `${ifaceMatch('oifname', [nat])} masquerade`]),
    '}',
  ];
}

function section(title: string, rules: string[]): string[] {
  return rules.length === 0 ? [] : [`# ${title}`, ...rules];
}

function chain(name: string, lines: string[]): string[] {
  return [`\tchain ${name} {`, ...lines.map((l) => `\t\t${l}`), '\t}'];
}
