import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, show } from '../helpers/assert-values.js';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import type { ResolvedPort } from '../../src/config/resolve.js';
import { checkRawNftRule, renderNftablesRuleset, renderPortRules, sanitizeNftComment } from '../../src/families/linux/nftables.js';

const EMPTY = { openPorts: [], rawRules: [] };

function port(p: Partial<ResolvedPort> & Pick<ResolvedPort, 'from'>): ResolvedPort {
  return { proto: 'tcp', to: p.from, ...p };
}

/** The input chain's lines, without the indentation. */
function inputChain(ruleset: string): string[] {
  const lines = ruleset.split('\n');
  const start = lines.indexOf('\tchain input {');
  const end = lines.indexOf('\t}', start);
  return lines.slice(start + 1, end).map((l) => l.trim());
}

describe('renderNftablesRuleset', () => {
  it('starts as a script that replaces the whole ruleset', () => {
    const text = renderNftablesRuleset(EMPTY);
    const lines = text.split('\n');
    assert.equal(lines[0], '#!/usr/sbin/nft -f');
    includesAll(lines, ['flush ruleset']);
    assert.ok(lines.indexOf('flush ruleset') < lines.indexOf('table inet filter {'), show(lines));
    assert.ok(text.endsWith('}\n'), show(text.slice(-40)));
  });

  it('drops input and forward by default and lets output through', () => {
    const text = renderNftablesRuleset(EMPTY);
    assert.match(text, /chain input \{\n\t\ttype filter hook input priority filter; policy drop;\n/);
    assert.match(text, /chain forward \{\n\t\ttype filter hook forward priority filter; policy drop;\n\t\}/);
    assert.match(text, /chain output \{\n\t\ttype filter hook output priority filter; policy accept;\n\t\}/);
  });

  it('accepts replies, loopback and essential ICMP before anything else, dropping invalid packets', () => {
    const chain = inputChain(renderNftablesRuleset(EMPTY));
    assert.deepEqual(chain.slice(1, 4), ['ct state established,related accept', 'ct state invalid drop', 'iif lo accept']);
    const icmp = chain.find((l) => l.startsWith('icmp type'));
    const icmpv6 = chain.find((l) => l.startsWith('icmpv6 type'));
    includesAll(icmp ?? '', ['echo-request', 'destination-unreachable']);
    for (const type of ['nd-neighbor-solicit', 'nd-neighbor-advert', 'nd-router-advert', 'packet-too-big', 'echo-request']) {
      assert.ok(icmpv6?.includes(type), `icmpv6 lacks ${type}`);
    }
  });

  it('opens the ports, then adds the raw rules verbatim, in config order', () => {
    const chain = inputChain(renderNftablesRuleset({
      openPorts: [port({ from: 22, description: 'ssh' }), port({ proto: 'udp', from: 6000, to: 6010 })],
      rawRules: ['ip saddr 10.0.0.0/8 tcp dport { 8080, 8443 } accept', '  counter drop  '],
    }));
    const tail = chain.slice(chain.indexOf('# open ports, from [network] open_ports'));
    assert.deepEqual(tail, [
      '# open ports, from [network] open_ports',
      'tcp dport 22 accept comment "ssh"',
      'udp dport 6000-6010 accept',
      '# raw rules, from [network] firewall-rules',
      'ip saddr 10.0.0.0/8 tcp dport { 8080, 8443 } accept',
      'counter drop',
    ]);
  });

  it('writes no section headings when there is nothing to put under them', () => {
    assert.doesNotMatch(renderNftablesRuleset(EMPTY), /open ports|raw rules/);
  });

  it('refuses a raw rule that checkRawNftRule refuses', () => {
    assert.throws(() => renderNftablesRuleset({ openPorts: [], rawRules: ['accept; flush ruleset'] }), /firewall rule .*';'/);
  });

  it('is deterministic', () => {
    const spec = { openPorts: [port({ from: 80 })], rawRules: ['counter accept'] };
    assert.equal(renderNftablesRuleset(spec), renderNftablesRuleset(spec));
  });
});

describe('renderPortRules', () => {
  const cases: Array<[ResolvedPort, string[]]> = [
    [port({ from: 22 }), ['tcp dport 22 accept']],
    [port({ proto: 'udp', from: 53 }), ['udp dport 53 accept']],
    [port({ proto: 'all', from: 53, description: 'dns' }), ['tcp dport 53 accept comment "dns"', 'udp dport 53 accept comment "dns"']],
    [port({ from: 6000, to: 6010 }), ['tcp dport 6000-6010 accept']],
    [port({ from: 1, to: 65535 }), ['tcp dport 1-65535 accept']],
    [port({ from: 80, description: 'web "admin"; drop }' }), ['tcp dport 80 accept comment "web admin drop"']],
    [port({ from: 80, description: '";{}#' }), ['tcp dport 80 accept']],
  ];
  for (const [input, expected] of cases) {
    it(`renders ${JSON.stringify(input)}`, () => assert.deepEqual(renderPortRules(input), expected));
  }
  for (const bad of [port({ from: 0 }), port({ from: 65536 }), port({ from: 10, to: 9 }), port({ from: 1.5 })]) {
    it(`refuses ${bad.from}-${bad.to}`, () => assert.throws(() => renderPortRules(bad), /invalid port range/));
  }
});

describe('sanitizeNftComment', () => {
  it('keeps safe text and collapses the rest to single spaces', () => {
    assert.equal(sanitizeNftComment('web (public): 80/443'), 'web (public): 80/443');
    assert.equal(sanitizeNftComment('a"b\nc\\d;e'), 'a b c d e');
    assert.equal(sanitizeNftComment('  café  '), 'caf');
    assert.equal(sanitizeNftComment('"""'), '');
  });
  it('cuts to the 128 bytes nft allows', () => {
    assert.equal(sanitizeNftComment('x'.repeat(300)).length, 128);
  });
  it('never yields a quote, backslash or control character (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => /^[A-Za-z0-9 ._,:/+=@()-]*$/.test(sanitizeNftComment(s))));
  });
});

describe('checkRawNftRule', () => {
  const accepted = [
    'tcp dport 8080 accept',
    'ip saddr 10.0.0.0/8 tcp dport { 22, 80 } accept',
    'tcp dport vmap { 22 : accept, 80 : drop }',
    'meta l4proto { tcp, udp } th dport 53 accept comment "dns"',
    'ct state new limit rate 10/second accept',
    'iifname "eth1" counter drop',
    'ip6 saddr fe80::/10 udp dport 546 accept',
    'add @blocked { ip saddr }',
    'tcp dport 22 accept comment "type policy include"',
  ];
  for (const rule of accepted) {
    it(`accepts ${JSON.stringify(rule)}`, () => assert.deepEqual(checkRawNftRule(rule), { ok: true }));
  }

  const rejected: Array<[string, string | RegExp]> = [
    ['', 'is empty'],
    ['   ', 'is empty'],
    ['tcp dport 22 accept\ntcp dport 23 accept', 'line break'],
    ['tcp dport 22 accept\r', 'line break'],
    ['tcp\tdport 22 accept', 'control character \\x09'],
    ['tcp dport 22 accept\0', 'control character \\x00'],
    ['accept; flush ruleset', "';'"],
    ['accept # all of it', "'#'"],
    ['tcp dport 22 accept \\', "'\\'"],
    ['} chain evil { policy accept', "'}' without a matching '{'"],
    ['tcp dport { 22, 80 } } table ip evil {', "'}' without a matching '{'"],
    ['tcp dport { 22 accept', "'{' without a matching '}'"],
    ['accept comment "x', "unclosed '\"'"],
    ['accept comment "{" }', "'{' inside a quoted string"],
    ['policy accept', "'policy'"],
    ['Policy accept', "'policy'"],
    ['type filter hook output priority 0', "'type'"],
    ['include "/etc/nftables.d/x.nft"', "'include'"],
    ['define ssh = 22', "'define'"],
    ['comment "input"', "'comment'"],
    ['accept comment "café"', 'only printable ASCII'],
  ];
  for (const [rule, fragment] of rejected) {
    it(`rejects ${JSON.stringify(rule)}`, () => {
      const r = checkRawNftRule(rule);
      assert.equal(r.ok, false);
      if (r.ok) return;
      if (typeof fragment === 'string') assert.ok(r.message.includes(fragment), `message ${JSON.stringify(r.message)} lacks ${JSON.stringify(fragment)}`);
      else assert.match(r.message, fragment);
      assert.notEqual(r.hint, '', r.message);
      assert.match(r.message, /^firewall rule '/);
      assert.ok(!r.message.includes('\n'), 'the message must stay one line');
    });
  }

  it('never lets an accepted rule change the ruleset outside its own line (property)', () => {
    const piece = fc.constantFrom('tcp', ' ', 'dport', '22', '{', '}', '"', ';', '#', '\\', '\n', 'accept', 'policy', 'chain', 'x', ',', '\t', 'é');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }).map((a) => a.join('')), (rule) => {
        if (!checkRawNftRule(rule).ok) return true;
        const lines = inputChain(renderNftablesRuleset({ openPorts: [], rawRules: [rule] }));
        const last = lines[lines.length - 1] ?? '';
        return last === rule.trim() && !/[;#\\\n]/.test(last) && braceDepth(last) === 0;
      }),
      { numRuns: 3000 },
    );
  });
});

/** Quote-aware brace balance, the way nft's scanner sees it. */
function braceDepth(line: string): number {
  let depth = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '{') depth++;
    else if (!quoted && ch === '}') depth--;
  }
  return depth;
}

/** `nft -c` parses and checks a ruleset without loading it; it needs nft and, usually, root. */
function nftCheck(text: string): { status: number | null; stderr: string } {
  const r = spawnSync('nft', ['-c', '-f', '-'], { input: text, encoding: 'utf8' });
  return { status: r.error ? null : r.status, stderr: r.stderr ?? '' };
}

const nftUsable = nftCheck(renderNftablesRuleset(EMPTY)).status === 0;

describe('the ruleset in nft itself', { skip: nftUsable ? false : 'nft -c is not available here (needs nftables and root)' }, () => {
  it('parses a ruleset with every kind of port and raw rule', () => {
    const text = renderNftablesRuleset({
      openPorts: [port({ from: 22, description: 'ssh' }), port({ proto: 'all', from: 6000, to: 6010, description: 'x11 (range)' })],
      rawRules: ['ip saddr 10.0.0.0/8 tcp dport { 8080, 8443 } accept', 'tcp dport vmap { 25 : drop, 26 : accept }', 'counter drop'],
    });
    const r = nftCheck(text);
    assert.equal(r.status, 0, r.stderr);
  });
});
