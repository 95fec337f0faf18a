import { test } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, noItem, everyItem } from '../helpers/assert-values.js';
import { fileURLToPath } from 'node:url';
import type { ResolvedSpec } from '../../src/config/resolve.js';
import { CRYPT_SCRIPT, formatResults, runChecks, verifyChecks, normalizeLocaleName, type VerifyOptions } from '../../src/verify/checks.js';
import { FakeCommunicator, loadTranscripts, type Call } from '../helpers/fake-communicator.js';
import { recordedSpec, wrongSpec } from '../fixtures/verify/specs.js';

const fixtures = (name: string): string => fileURLToPath(new URL(`../fixtures/verify/${name}/`, import.meta.url));
const BOOTED: VerifyOptions = { booted: true, addressesInGuest: true };
const OFFLINE: VerifyOptions = { booted: false, addressesInGuest: false };

function bootedGuest(): FakeCommunicator {
  return FakeCommunicator.fromFixtures(fixtures('booted'));
}

async function report(spec: ResolvedSpec, opts: VerifyOptions, comm = bootedGuest()): Promise<{ text: string; lines: string[]; comm: FakeCommunicator }> {
  const text = formatResults(await runChecks(verifyChecks(spec, opts), comm));
  return { text, lines: text.trimEnd().split('\n'), comm };
}

/** Only the checks with these names, for cases about one check. */
async function only(names: string[], spec: ResolvedSpec, opts: VerifyOptions, comm: FakeCommunicator): Promise<string[]> {
  const checks = verifyChecks(spec, opts).filter((c) => names.includes(c.name));
  assert.equal(checks.length, names.length, `checks named ${names.join(', ')}`);
  return formatResults(await runChecks(checks, comm)).trimEnd().split('\n').slice(0, -1);
}

test('the booted guest built from web.conf passes every check', async () => {
  const { lines } = await report(recordedSpec(), BOOTED);
  assert.deepEqual(lines.filter((l) => !l.startsWith('ok    ')), ['all 36 checks passed']);
  for (const expected of [
    'ok    hostname (running): web1',
    'ok    /etc/hostname: web1',
    'ok    group julius: exists',
    'ok    user caesar: uid 1000, home /home/caesar, shell /bin/bash',
    'ok    user caesar in group julius: groups are caesar sudo julius',
    'ok    home of caesar: /home/caesar, owned by caesar',
    'ok    SSH keys of caesar: 1 in /home/caesar/.ssh/authorized_keys',
    "ok    password of caesar: yescrypt hash of the config's password",
    "ok    password of root: yescrypt hash of the config's password",
    'ok    package apache2: installed',
    'ok    service nftables active: active',
    'ok    address of eth0: 192.168.1.2/24',
    'ok    default gateway: 192.168.1.1',
    'ok    DNS servers: 192.168.1.254',
    'ok    firewall input policy: drop, in the loaded ruleset',
    'ok    firewall accepts tcp 6000-6010: in the loaded ruleset',
    'ok    firewall accepts tcp+udp 53: in the loaded ruleset',
    'ok    time zone: Europe/Bucharest',
    'ok    locale en_US.UTF-8 generated: en_US.utf8',
  ]) assert.ok(lines.includes(expected), `missing line: ${expected}`);
});

test('a stopped guest is checked from its files: no running hostname, no active services, the firewall from /etc/nftables.conf', async () => {
  const { lines, comm } = await report(recordedSpec(), OFFLINE, FakeCommunicator.fromFixtures(fixtures('offline')));
  assert.equal(lines.at(-1), 'all 29 checks passed');
  includesAll(lines, ['ok    firewall input policy: drop, in /etc/nftables.conf', 'ok    service nftables enabled: enabled']);
  noItem(lines, (l) => l.includes('hostname (running)') || l.includes(' active:'));
  noItem(innerCommands(comm.calls), (argv) => argv[0] === 'nft' || argv[0] === 'ip' || argv[0] === 'hostname');
});

test('addresses are left to the caller when the runtime, not the guest, holds them', async () => {
  const { lines, comm } = await report(recordedSpec(), { booted: true, addressesInGuest: false });
  noItem(lines, (l) => /address of|default gateway|DNS servers/.test(l));
  noItem(innerCommands(comm.calls), (argv) => argv[0] === 'ip');
});

test('a guest that differs from its spec gets a FAIL line naming each difference', async () => {
  const { lines } = await report(wrongSpec(), BOOTED);
  for (const expected of [
    'FAIL  hostname (running): is web1, want db1',
    'FAIL  /etc/hostname: is web1, want db1',
    'FAIL  group nosuch: does not exist',
    'FAIL  user caesar in group wheel: groups are caesar sudo julius',
    "FAIL  password of caesar: yescrypt hash of another password than the config's",
    'FAIL  user vv: home is /home/vv, want /srv/vv; shell is /bin/bash, want /bin/sh',
    'FAIL  user ghost: does not exist',
    'FAIL  password of ghost: no shadow entry',
    "FAIL  password of root: differs from the config's hash",
    'FAIL  package nosuchpkg: not installed (unknown to dpkg)',
    'FAIL  service systemd-networkd enabled: disabled',
    'FAIL  service systemd-networkd active: inactive',
    'FAIL  service nosuchunit enabled: Failed to get unit file state for nosuchunit.service: No such file or directory',
    'FAIL  address of eth0: eth0 has 192.168.1.2/24, want 192.168.1.3/24',
    'FAIL  address of eth1: Device "eth1" does not exist.',
    'FAIL  default gateway: via 192.168.1.1, want 192.168.1.254',
    'FAIL  DNS servers: /etc/resolv.conf lacks 9.9.9.9 (has 192.168.1.254)',
    'FAIL  firewall accepts udp 5353: no rule accepting udp port 5353 in the loaded ruleset',
    'FAIL  firewall accepts tcp 6000-6020: no rule accepting tcp port 6000-6020 in the loaded ruleset',
    'FAIL  time zone: /etc/localtime points to /usr/share/zoneinfo/Europe/Bucharest, want Asia/Tokyo',
    'FAIL  locale: LANG is en_US.UTF-8, want de_DE.UTF-8',
    'FAIL  locale de_DE.UTF-8 generated: locale -a does not list de_DE.utf8',
  ]) assert.ok(lines.includes(expected), `missing line: ${expected}`);
  // What the wrong spec shares with the guest still passes.
  includesAll(lines, ['ok    group julius: exists', "ok    password of vv: yescrypt hash of the config's password"]);
  assert.equal(lines.at(-1), '25 of 49 checks failed');
});

test('the same differences fail in a stopped guest, read from its files', async () => {
  const { lines } = await report(wrongSpec(), OFFLINE, FakeCommunicator.fromFixtures(fixtures('offline')));
  includesAll(lines, ['FAIL  /etc/hostname: is web1, want db1', 'FAIL  firewall accepts udp 5353: no rule accepting udp port 5353 in /etc/nftables.conf']);
  assert.equal(lines.at(-1), '18 of 39 checks failed');
});

// ---------------------------------------------------------------------------------------------
// Passwords

/** The command each call ran in the guest, without the probe wrapper around it. */
function innerCommands(calls: readonly Call[]): string[][] {
  return calls.map((c) => (c.argv[0] === 'sh' && c.argv[1] === '-c' ? c.argv.slice(4) : c.argv));
}

function withPasswords(spec: ResolvedSpec, root: string, users: Record<string, string>): ResolvedSpec {
  return {
    ...spec,
    rootPassword: { plain: root },
    users: spec.users.map((u) => ({ ...u, password: { plain: users[u.name] ?? `${u.name}-Pw-unused` } })),
  };
}

test('no check puts a password or a shadow hash in argv or in a report line', async () => {
  const secrets = { root: 'R00t;$(reboot)', caesar: 'Ca3sar `id` pw', vv: 'vv:pa ss' };
  const spec = withPasswords(recordedSpec(), secrets.root, { caesar: secrets.caesar, vv: secrets.vv });
  const comm = bootedGuest().on(['perl', '-e', CRYPT_SCRIPT], { stdout: 'differ' });
  const { text } = await report(spec, BOOTED, comm);
  const hashes = ['root', 'caesar', 'vv'].map((u) => shadowHash(u));
  for (const call of comm.calls) {
    for (const secret of [...Object.values(secrets), ...hashes]) {
      assert.ok(!call.argv.some((a) => a.includes(secret)), `${JSON.stringify(call.argv)} holds a secret`);
    }
  }
  for (const secret of [...Object.values(secrets), ...hashes]) assert.ok(!text.includes(secret), 'a report line holds a secret');
  // The passwords did reach the guest: on stdin, after the hash.
  const inputs = comm.calls.flatMap((c) => (c.input === undefined ? [] : [c.input]));
  assert.equal(inputs.length, 3);
  includesAll(inputs, Object.entries(secrets).map(([user, secret]) => `${shadowHash(user)}\n${secret}\n`));
});

/** The hash the recorded guest has for a user, from its getent output. */
function shadowHash(user: string): string {
  const t = loadTranscripts(fixtures('booted')).find((x) => x.argv.join(' ') === `getent shadow -- ${user}`);
  const hash = t?.reply.stdout.split(':')[1];
  if (hash === undefined) throw new Error(`no recorded shadow entry for ${user}`);
  return hash;
}

test('a password given as a hash is compared with the shadow entry as it is', async () => {
  const spec = recordedSpec();
  const vv = { ...spec.users[1]!, password: { hash: shadowHash('vv') } };
  const lines = await only(['password of vv'], { ...spec, users: [spec.users[0]!, vv] }, BOOTED, bootedGuest());
  assert.deepEqual(lines, ["ok    password of vv: the config's hash"]);
});

test('an account without a configured password must be locked, never empty', async () => {
  const spec: ResolvedSpec = { ...recordedSpec(), users: [{ name: 'nopw', groups: [], home: '/home/nopw', shell: '/bin/bash', sshKeys: [] }] };
  const locked = bootedGuest().on(['getent', 'shadow', '--', 'nopw'], { stdout: 'nopw:!:20783:0:99999:7:::\n' });
  assert.deepEqual(await only(['password of nopw'], spec, BOOTED, locked), ['ok    password of nopw: locked, as the config sets no password']);
  const empty = bootedGuest().on(['getent', 'shadow', '--', 'nopw'], { stdout: 'nopw::20783:0:99999:7:::\n' });
  assert.deepEqual(await only(['password of nopw'], spec, BOOTED, empty), ['FAIL  password of nopw: empty: the account logs in without a password']);
});

test('a password hashed with an old scheme fails even before comparing', async () => {
  const comm = bootedGuest().on(['getent', 'shadow', '--', 'vv'], { stdout: 'vv:$1$abcdefgh$0123456789abcdefghijkl:20783:0:99999:7:::\n' });
  assert.deepEqual(await only(['password of vv'], recordedSpec(), BOOTED, comm), ['FAIL  password of vv: not a yescrypt ($y$) or SHA-512 ($6$) hash (starts $1$)']);
  assert.ok(!comm.calls.some((c) => c.argv.includes('perl')), 'no crypt check for a hash that is wrong anyway');
});

// ---------------------------------------------------------------------------------------------
// Services, missing programs, unreachable guests

test('a service still activating is asked again until it settles', async () => {
  const activating = { stdout: 'activating\n', exitCode: 3 };
  const comm = bootedGuest().on(['systemctl', 'is-active', '--', 'apache2'], activating, activating, { stdout: 'active\n' });
  const lines = await only(['service apache2 active'], recordedSpec(), { ...BOOTED, pollIntervalMs: 1 }, comm);
  assert.deepEqual(lines, ['ok    service apache2 active: active']);
  assert.equal(innerCommands(comm.calls).filter((a) => a.join(' ') === 'systemctl is-active -- apache2').length, 3);
});

test('a service that never settles fails after the time allowed', async () => {
  const comm = bootedGuest().on(['systemctl', 'is-active', '--', 'apache2'], { stdout: 'activating\n', exitCode: 3 });
  const lines = await only(['service apache2 active'], recordedSpec(), { ...BOOTED, activeTimeoutMs: 30, pollIntervalMs: 5 }, comm);
  assert.deepEqual(lines, ['FAIL  service apache2 active: still activating after 0.03 s']);
});

test('a failed service fails at once, with its state', async () => {
  const comm = bootedGuest().on(['systemctl', 'is-active', '--', 'nftables'], { stdout: 'failed\n', exitCode: 3 });
  assert.deepEqual(await only(['service nftables active'], recordedSpec(), BOOTED, comm), ['FAIL  service nftables active: failed']);
  assert.equal(comm.calls.length, 1);
});

test('a program missing from the guest is named as such', async () => {
  const comm = bootedGuest().on(['dpkg-query', '-W', '--showformat=${Status}\\n', '--', 'vim'], { exitCode: 127, stderr: 'vmgen-probe: 1: dpkg-query: not found\n' });
  assert.deepEqual(await only(['package vim'], recordedSpec(), BOOTED, comm), ['FAIL  package vim: dpkg-query is not installed in the guest']);
});

test('a check that cannot reach the guest fails with the reason, and the others still run', async () => {
  const comm = new FakeCommunicator();
  const results = await runChecks(verifyChecks(recordedSpec(), OFFLINE).slice(0, 2), comm);
  assert.equal(results.length, 2);
  everyItem(results, (r) => !r.ok && r.detail.startsWith('could not check: fake communicator: no recorded reply'));
});

test('guest output with control characters stays on one report line', async () => {
  const comm = bootedGuest().on(['hostname'], { stdout: 'evil\x1b[2J\nFAIL  fake line\n' });
  const lines = await only(['hostname (running)'], recordedSpec(), BOOTED, comm);
  assert.deepEqual(lines, ['FAIL  hostname (running): is evil\\x1b[2J\\x0aFAIL  fake line, want web1']);
});

// ---------------------------------------------------------------------------------------------
// Report

test('formatResults: one aligned line per check and a summary', () => {
  const results = [
    { name: 'hostname', ok: true, detail: 'web1' },
    { name: 'user caesar in group julius', ok: false, detail: 'groups are caesar sudo' },
  ];
  assert.equal(formatResults(results), 'ok    hostname: web1\nFAIL  user caesar in group julius: groups are caesar sudo\n1 of 2 checks failed\n');
  assert.equal(formatResults([results[0]!]), 'ok    hostname: web1\nall 1 check passed\n');
});

test('locale names are compared as locale -a lists them', () => {
  assert.equal(normalizeLocaleName('en_US.UTF-8'), 'en_US.utf8');
  assert.equal(normalizeLocaleName('de_DE.ISO-8859-15@euro'), 'de_DE.iso885915@euro');
  assert.equal(normalizeLocaleName('en_US'), 'en_US');
});
