import { test } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, noItem } from '../helpers/assert-values.js';
import { fileURLToPath } from 'node:url';
import { acceptedPorts, inetFilterInputChains, ruleAccepting } from '../../src/families/linux/nft-ruleset.js';
import { loadTranscripts } from '../helpers/fake-communicator.js';

function recorded(dir: string, command: string): string {
  const t = loadTranscripts(fileURLToPath(new URL(`../fixtures/verify/${dir}/`, import.meta.url))).find((x) => x.argv.join(' ') === command);
  if (t === undefined) throw new Error(`no recording of ${command} in ${dir}`);
  return t.reply.stdout;
}

const LOADED = recorded('booted', 'nft list ruleset');
const CONF = recorded('offline', 'cat -- /etc/nftables.conf');

test('the input chain of the loaded ruleset (nft list ruleset of Debian 12)', () => {
  const chains = inetFilterInputChains(LOADED);
  assert.equal(chains.length, 1);
  assert.equal(chains[0]?.name, 'input');
  assert.equal(chains[0]?.policy, 'drop');
  includesAll(chains[0]?.rules ?? [], ['tcp dport 22 accept comment "ssh"']);
  assert.ok(!chains[0]?.rules.some((r) => r.includes('hook')), 'the chain settings are not a rule');
});

test('the same chain from /etc/nftables.conf, comments and all', () => {
  const chains = inetFilterInputChains(CONF);
  assert.equal(chains.length, 1);
  assert.equal(chains[0]?.policy, 'drop');
  assert.deepEqual(chains[0]?.rules.filter((r) => r.includes('dport')), inetFilterInputChains(LOADED)[0]?.rules.filter((r) => r.includes('dport')));
  noItem(chains[0]?.rules ?? [], (r) => r.startsWith('#') || r === '');
});

test('rules that accept by port alone, as nft prints them', () => {
  assert.deepEqual(acceptedPorts('tcp dport 22 accept', 'tcp'), [{ from: 22, to: 22 }]);
  assert.deepEqual(acceptedPorts('tcp dport 22 accept comment "ssh: the { door }"', 'tcp'), [{ from: 22, to: 22 }]);
  assert.deepEqual(acceptedPorts('udp dport 6000-6010 accept', 'udp'), [{ from: 6000, to: 6010 }]);
  assert.deepEqual(acceptedPorts('tcp dport { 22, 80, 8000-8080 } accept', 'tcp'), [{ from: 22, to: 22 }, { from: 80, to: 80 }, { from: 8000, to: 8080 }]);
  assert.deepEqual(acceptedPorts('tcp dport 22 counter packets 3 bytes 180 accept', 'tcp'), [{ from: 22, to: 22 }]);
});

test('rules that do not open a port to everyone do not count', () => {
  assert.deepEqual(acceptedPorts('tcp dport 22 accept', 'udp'), [], 'another protocol');
  assert.deepEqual(acceptedPorts('tcp dport 22 drop', 'tcp'), [], 'another verdict');
  assert.deepEqual(acceptedPorts('ip saddr 10.0.0.0/8 tcp dport 22 accept', 'tcp'), [], 'only from some addresses');
  assert.deepEqual(acceptedPorts('tcp dport 22 ct state new limit rate 3/minute accept', 'tcp'), [], 'rate-limited');
  assert.deepEqual(acceptedPorts('tcp dport @allowed accept', 'tcp'), [], 'a named set this reader cannot see into');
});

test('a range is open only when one rule covers all of it', () => {
  const chains = inetFilterInputChains(LOADED);
  assert.equal(ruleAccepting(chains, 'tcp', { from: 6000, to: 6010 }), 'tcp dport 6000-6010 accept');
  assert.equal(ruleAccepting(chains, 'tcp', { from: 6005, to: 6006 }), 'tcp dport 6000-6010 accept');
  assert.equal(ruleAccepting(chains, 'tcp', { from: 6000, to: 6011 }), undefined);
  assert.equal(ruleAccepting(chains, 'udp', { from: 53, to: 53 }), 'udp dport 53 accept');
  assert.equal(ruleAccepting(chains, 'udp', { from: 22, to: 22 }), undefined);
});

test('chains of other tables or hooks are not the input filter', () => {
  const text = [
    'table ip nat {', '\tchain input {', '\t\ttype nat hook input priority 100; policy accept;', '\t\ttcp dport 22 accept', '\t}', '}',
    'table inet filter {', '\tchain fwd {', '\t\ttype filter hook forward priority filter; policy accept;', '\t\ttcp dport 23 accept', '\t}',
    '\tchain in {', '\t\ttype filter hook input priority filter; policy accept;', '\t\ttcp dport 80 accept', '\t}', '}',
  ].join('\n');
  assert.deepEqual(inetFilterInputChains(text), [{ name: 'in', policy: 'accept', rules: ['tcp dport 80 accept'] }]);
});

test('the recorded chains hold exactly their rules', () => {
  const rules = inetFilterInputChains(LOADED)[0]?.rules ?? [];
  assert.equal(rules[0], 'ct state established,related accept');
  assert.equal(rules.at(-1), 'udp dport 53 accept');
});
