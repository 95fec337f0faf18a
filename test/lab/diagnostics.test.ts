import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadCatalogs } from '../../src/catalog/load.js';
import { memorySources } from '../../src/config/sources.js';
import { loadLab } from '../../src/lab/load.js';
import { findTarget } from '../../src/targets/registry.js';

/*
 * Every lab-level problem at its file, line and column, with its code and message: the example
 * lab's machine configs with a lab file written for each case.
 */

const catalogs = loadCatalogs({ env: {} });
const example = (name: string): Buffer => readFileSync(new URL(`../../examples/net101/${name}`, import.meta.url));
const files = (extra: Record<string, string> = {}): Map<string, Buffer> => new Map([
  ...['gw.conf', 'web.conf', 'pc.conf', 'students.csv'].map((f): [string, Buffer] => [f, example(f)]),
  ...Object.entries(extra).map(([k, v]): [string, Buffer] => [k, Buffer.from(v)]),
]);

const HEAD = `[lab]
    name = t
[networks]
    [[dmz]]
        subnet = 10.20.0.0/24
        gateway = 10.20.0.1
    [[lan]]
        subnet = 10.10.0.0/24
[machines]
    [[gw]]
        config = gw.conf
        eth0 = dmz:10.20.0.1
        eth1 = lan:10.10.0.1
`;
// HEAD is 13 lines: the cases' own lines start at 14.

interface Case {
  name: string;
  lab: string;
  extra?: Record<string, string>;
  want: { file?: string; line: number; column: number; code: string; message: RegExp };
}

const CASES: Case[] = [
  { name: 'unknown network', lab: `${HEAD}    [[web]]\n        config = web.conf\n        eth0 = dnz:10.20.0.10\n`,
    want: { line: 16, column: 16, code: 'LAB_UNKNOWN_NETWORK', message: /unknown network 'dnz'/ } },
  { name: 'address outside its subnet', lab: `${HEAD}    [[web]]\n        config = web.conf\n        eth0 = dmz:10.30.0.10\n`,
    want: { line: 16, column: 20, code: 'LAB_ADDRESS_OUTSIDE', message: /10\.30\.0\.10 is outside network 'dmz'/ } },
  { name: 'the broadcast address', lab: `${HEAD}    [[web]]\n        config = web.conf\n        eth0 = dmz:10.20.0.255\n`,
    want: { line: 16, column: 20, code: 'LAB_ADDRESS_RESERVED', message: /broadcast address of 'dmz'/ } },
  { name: 'an address taken twice names both machines', lab: `${HEAD}    [[web]]\n        config = web.conf\n        count = 2\n        eth0 = dmz:10.20.0.{n}\n`,
    want: { line: 17, column: 20, code: 'LAB_ADDRESS_TAKEN', message: /10\.20\.0\.1 is both gw's and web1's/ } },
  { name: 'a bad template, at its column', lab: `${HEAD}    [[web]]\n        config = web.conf\n        eth0 = dmz:10.20.0.{10+m}\n`,
    want: { line: 16, column: 28, code: 'LAB_TEMPLATE', message: /unknown template \{10\+m\}/ } },
  { name: 'a DHCP NIC on a network without a DHCP server', lab: `${HEAD}    [[pc]]\n        config = pc.conf\n        eth0 = dmz:dhcp\n`,
    want: { line: 16, column: 16, code: 'LAB_NO_DHCP_SERVER', message: /no DHCP server on network 'dmz'/ } },
  { name: 'roster rows fewer than count', lab: `${HEAD}    [[pc]]\n        config = pc.conf\n        count = 7\n        eth0 = lan:dhcp\n        roster = students.csv\n`,
    want: { line: 18, column: 18, code: 'LAB_ROSTER_SHORT', message: /has 6 rows, count is 7/ } },
  { name: 'a roster column that does not exist', lab: `${HEAD}    [[pc]]\n        config = pc.conf\n        count = 2\n        eth0 = lan:dhcp\n        roster = students.csv\n        [[[set]]]\n            users.users.user0.name = {roster.usr}\n`,
    want: { line: 20, column: 38, code: 'LAB_ROSTER_COLUMN', message: /no column 'usr'/ } },
  { name: 'a set that leaves a user without a name, at the set line, named by copy', lab: `${HEAD}    [[pc]]\n        config = pc.conf\n        count = 2\n        eth0 = lan:dhcp\n        [[[set]]]\n            users.users.user0.name = ""\n`,
    want: { line: 19, column: 13, code: 'CFG_USER_NAME', message: /^pc1, pc2: user name is empty/ } },
  { name: 'a set key that is no key path', lab: `${HEAD}    [[pc]]\n        config = pc.conf\n        eth0 = lan:dhcp\n        [[[set]]]\n            config..hostname = x\n`,
    want: { line: 18, column: 13, code: 'LAB_SET_KEY', message: /is not a key path/ } },
  { name: 'duplicate machine names after expansion', lab: `${HEAD}    [[web]]\n        config = web.conf\n        count = 2\n        eth0 = dmz:10.20.0.{10+n}\n    [[web2]]\n        config = web.conf\n        eth0 = dmz:10.20.0.20\n`,
    want: { line: 18, column: 7, code: 'LAB_DUPLICATE_NAME', message: /'web2' is also a copy of \[\[web\]\]/ } },
  { name: 'two networks overlap', lab: HEAD.replace('subnet = 10.10.0.0/24', 'subnet = 10.20.0.0/16'),
    want: { line: 8, column: 18, code: 'LAB_NETWORK_OVERLAP', message: /overlaps network 'dmz'/ } },
  { name: 'a gateway outside its subnet', lab: HEAD.replace('gateway = 10.20.0.1', 'gateway = 10.10.0.1'),
    want: { line: 6, column: 19, code: 'LAB_ADDRESS_OUTSIDE', message: /gateway 10\.10\.0\.1 is outside 10\.20\.0\.0\/24/ } },
  { name: 'a NIC line not named ethN', lab: `${HEAD}    [[web]]\n        config = web.conf\n        nic0 = dmz:10.20.0.10\n`,
    want: { line: 16, column: 9, code: 'LAB_NIC_NAME', message: /'nic0' is not a NIC name/ } },
  { name: 'an unknown key', lab: `${HEAD}    [[web]]\n        config = web.conf\n        cout = 2\n`,
    want: { line: 16, column: 9, code: 'LAB_UNKNOWN_KEY', message: /unknown key 'cout'/ } },
  { name: 'an unknown key in [lab], through the model', lab: HEAD.replace('name = t', 'name = t\n    colour = red'),
    want: { line: 3, column: 5, code: 'CFG_UNKNOWN_KEY', message: /unknown key 'colour' in \[lab\]/ } },
  { name: 'count above the bound', lab: `${HEAD}    [[web]]\n        config = web.conf\n        count = 251\n`,
    want: { line: 16, column: 17, code: 'CFG_BAD_VALUE', message: /count/ } },
  { name: 'a missing machine config', lab: `${HEAD}    [[web]]\n        config = nope.conf\n`,
    want: { line: 15, column: 18, code: 'LAB_CONFIG_MISSING', message: /no machine config 'nope\.conf'/ } },
  { name: 'an error in the config itself is at the config\'s line', lab: `${HEAD}    [[web]]\n        config = bad.conf\n        eth0 = dmz:10.20.0.10\n`,
    extra: { 'bad.conf': '[hardware]\n    os = debian12-64\n    num_cpu = many\n' },
    want: { file: 'bad.conf', line: 3, column: 15, code: 'CFG_BAD_VALUE', message: /^num_cpu/ } },
  { name: 'a roster that is not CSV, in the roster', lab: `${HEAD}    [[pc]]\n        config = pc.conf\n        eth0 = lan:dhcp\n        roster = r.csv\n`,
    extra: { 'r.csv': 'user\n"ada\n' },
    want: { file: 'r.csv', line: 2, column: 1, code: 'LAB_ROSTER_SYNTAX', message: /never closed/ } },
];

for (const c of CASES) {
  test(`lab diagnostics: ${c.name}`, () => {
    const r = loadLab(c.lab, { catalogs, sources: memorySources(files(c.extra)), file: 'lab.conf' });
    const d = r.diagnostics.find((x) => x.code === c.want.code);
    assert.ok(d, `no ${c.want.code} among: ${r.diagnostics.map((x) => `${x.file}:${x.line}:${x.column} ${x.code} ${x.message}`).join('; ')}`);
    assert.deepEqual({ file: d.file, line: d.line, column: d.column }, { file: c.want.file ?? 'lab.conf', line: c.want.line, column: c.want.column },
      `${c.want.code} at the wrong place: ${d.message}`);
    assert.match(d.message, c.want.message, `message of ${c.want.code}`);
    assert.equal(r.lab, d.severity === 'error' ? undefined : r.lab, 'a lab with an error has no Lab');
  });
}

test('a problem every copy of a config has is reported once, at the config, without names', () => {
  const lab = `${HEAD}    [[web]]\n        config = bad.conf\n        count = 3\n        eth0 = dmz:10.20.0.{10+n}\n`;
  const r = loadLab(lab, { catalogs, sources: memorySources(files({ 'bad.conf': '[hardware]\n    os = debian12-64\n    num_cpu = many\n' })), file: 'dir/lab.conf' });
  const found = r.diagnostics.filter((d) => d.code === 'CFG_BAD_VALUE');
  assert.equal(found.length, 1, `once: ${JSON.stringify(found)}`);
  assert.equal(found[0]!.file, 'dir/bad.conf', 'named beside the lab file as the user gave it');
  assert.doesNotMatch(found[0]!.message, /web1/, 'no copy names when every copy has it');
});

test('the example lab loads: 8 machines on 2 networks, and with the lxc target only warnings', () => {
  const sources = memorySources(files());
  const text = readFileSync(new URL('../../examples/net101/lab.conf', import.meta.url), 'utf8');
  const r = loadLab(text, { catalogs, sources });
  assert.ok(r.lab, `valid: ${JSON.stringify(r.diagnostics)}`);
  assert.deepEqual(r.lab.machines.map((m) => m.name), ['gw', 'web', 'pc1', 'pc2', 'pc3', 'pc4', 'pc5', 'pc6']);
  assert.deepEqual(r.lab.networks.map((n) => n.name), ['dmz', 'lan']);
  assert.equal(r.lab.machines[2]!.config.config.hostname, 'pc1', 'a copy is named after its entry and number, and so is its host');
  assert.equal(r.lab.machines[3]!.config.users.users.user0!.name, 'alan', 'the roster gives the second copy its student');
  assert.equal(new Set(r.lab.machines.flatMap((m) => m.nics.map((n) => n.mac))).size, 9, 'every NIC has its own MAC');
  const lxc = loadLab(text, { catalogs, sources, target: findTarget('lxc')! });
  assert.ok(lxc.lab, `valid for lxc: ${JSON.stringify(lxc.diagnostics.filter((d) => d.severity === 'error'))}`);
});
