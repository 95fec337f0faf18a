/*
 * Reading an nftables ruleset back: the input chain of `table inet filter`, its policy, and which
 * ports its rules accept. The same reader takes `nft list ruleset` output (a booted guest) and
 * /etc/nftables.conf (a guest that is not running), as both use nft's block syntax.
 */

export interface InputChain {
  /** The chain's name, as written. */
  name: string;
  policy?: string;
  /** The chain's rules, one per line, trimmed, without comments or the chain's own settings. */
  rules: string[];
}

export interface PortRange {
  from: number;
  to: number;
}

/** The input-hooked chains of every `table inet filter` block, in order. */
export function inetFilterInputChains(text: string): InputChain[] {
  const chains: InputChain[] = [];
  let depth = 0;
  let inTable = false;
  let chain: (InputChain & { isInput: boolean }) | undefined;
  for (const raw of text.split('\n')) {
    const line = stripComment(raw).trim();
    const delta = braceDelta(line);
    if (depth === 0 && /^table\s+inet\s+filter\s*\{$/.test(line)) inTable = true;
    else if (inTable && depth === 1) {
      const m = /^chain\s+(\S+)\s*\{$/.exec(line);
      if (m !== null && m[1] !== undefined) chain = { name: m[1], rules: [], isInput: false };
    } else if (chain !== undefined && depth === 2 && depth + delta >= 2 && line !== '') readChainLine(chain, line);
    depth += delta;
    if (chain !== undefined && depth < 2) {
      if (chain.isInput) chains.push({ name: chain.name, rules: chain.rules, ...(chain.policy === undefined ? {} : { policy: chain.policy }) });
      chain = undefined;
    }
    if (depth < 1) inTable = false;
  }
  return chains;
}

/** A chain line is either its settings (`type … hook input …; policy drop;`) or one rule. */
function readChainLine(chain: InputChain & { isInput: boolean }, line: string): void {
  const hook = /\bhook\s+(\w+)/.exec(line);
  const policy = /\bpolicy\s+(\w+)/.exec(line);
  if (/^(type|policy)\b/.test(line)) {
    if (hook?.[1] === 'input') chain.isInput = true;
    if (policy?.[1] !== undefined) chain.policy = policy[1];
    return;
  }
  chain.rules.push(line);
}

/** nft strings have no escapes, so a quote always opens or closes one. */
function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === '#' && !quoted) return line.slice(0, i);
  }
  return line;
}

function braceDelta(line: string): number {
  let delta = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '{') delta++;
    else if (!quoted && ch === '}') delta--;
  }
  return delta;
}

/**
 * The ports a rule accepts for a protocol, when it accepts by destination port alone:
 * `tcp dport 22 accept`, `udp dport 6000-6010 accept`, `tcp dport { 22, 80 } accept`, optionally
 * with a counter and a trailing comment, as nft prints them. A rule with any other condition
 * (a source address, a connection state) accepts only some traffic to the port, so it does not count.
 */
export function acceptedPorts(rule: string, proto: 'tcp' | 'udp'): PortRange[] {
  const m = /^(tcp|udp)\s+dport\s+(\{[^}]*\}|\S+)\s+(?:counter(?:\s+packets\s+\d+\s+bytes\s+\d+)?\s+)?accept(?:\s+comment\s+"[^"]*")?$/.exec(rule.trim());
  if (m === null || m[1] !== proto || m[2] === undefined) return [];
  const ranges = m[2].replace(/^\{|\}$/g, '').split(',').map((s) => parseRange(s.trim()));
  // A set with anything but numbers (a named set, a service name) is not one this reader can judge.
  return ranges.includes(undefined) ? [] : ranges.filter((r): r is PortRange => r !== undefined);
}

function parseRange(text: string): PortRange | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (m === null || m[1] === undefined) return undefined;
  return { from: Number(m[1]), to: Number(m[2] ?? m[1]) };
}

/** The first rule of the chains that accepts every port of `want` for `proto`. */
export function ruleAccepting(chains: readonly InputChain[], proto: 'tcp' | 'udp', want: PortRange): string | undefined {
  return chains.flatMap((c) => c.rules).find((rule) => acceptedPorts(rule, proto).some((r) => r.from <= want.from && r.to >= want.to));
}
