import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findOs, loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/config/load.js';
import { resolveSpec, type ResolvedSpec } from '../../src/config/resolve.js';
import { VmgenError } from '../../src/errors.js';
import { batchProblem, batchQuote } from '../../src/guests/windows/batch.js';
import { CONFIG_BAT, WINDOWS_DIR, rawRuleLine, windowsConfigBat, windowsConfigurator } from '../../src/guests/windows/index.js';
import { configuratorFor } from '../../src/guests/registry.js';
import { assertGolden } from '../targets/golden.js';

const catalogs = loadCatalogs({ env: {} });
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/windows/${name}`, import.meta.url));

function windowsSpec(name: string, target = 'vmware'): ResolvedSpec {
  const loaded = loadConfig(readFileSync(fixture(name), 'utf8'), { catalogs });
  if (loaded.config === undefined) throw new Error(`${name} does not load: ${JSON.stringify(loaded.diagnostics)}`);
  return resolveSpec(loaded.config, catalogs, { target, defaultMirror: 'http://mirror.example/debian' });
}

const lines = (bat: string): string[] => bat.split('\r\n');
const throwsScript = (fn: () => unknown, re: RegExp): void => {
  assert.throws(fn, (err: unknown) => err instanceof VmgenError && err.code === 'VMG_WINDOWS_SCRIPT' && re.test(err.message));
};

describe('Windows configurator: config.bat (seed Listing 4.7)', () => {
  it('is registered for the OS table\'s windows configurator and plans config.bat only', () => {
    assert.equal(configuratorFor('windows'), windowsConfigurator);
    const spec = windowsSpec('winxp-seed.conf');
    const plan = windowsConfigurator.plan({ spec, nicOwner: 'guest' });
    assert.deepEqual(plan.files.map((f) => f.path), [`${WINDOWS_DIR}/${CONFIG_BAT}`]);
    assert.deepEqual(plan.commands, []);
    assert.deepEqual(windowsConfigurator.packages({ spec, nicOwner: 'guest' }), []);
  });

  it('the seed sample on XP has the commands of Listing 4.7 (golden)', () => {
    const bat = windowsConfigBat(windowsSpec('winxp-seed.conf'));
    assertGolden('windows/winxp/config.bat', bat);
    const l = lines(bat);
    // Listing 4.7, line by line in the modern spelling of the same commands.
    for (const expected of [
      'wmic computersystem where name="%COMPUTERNAME%" call rename "xp-gen"',
      'net user Administrator "pass2"',
      'net localgroup "vmg" /add',
      'net localgroup "julius" /add',
      'net localgroup "julius" "caesar" /add',
      'net localgroup "vmg" "vv" /add',
      'netsh interface ip set address name="Local Area Connection" source=static addr=192.168.1.2 mask=255.255.255.0 gateway=192.168.1.1 gwmetric=1',
      'netsh interface ip set dns name="Local Area Connection" source=static addr=192.168.1.254 register=primary',
      'netsh firewall add portopening protocol=TCP port=22 name="ssh"',
      'netsh firewall add portopening protocol=ALL port=65000 name="myport"',
    ]) assert.ok(l.includes(expected), `missing: ${expected}`);
    assert.ok(l.some((x) => x.startsWith('net user "caesar" "alesia" /add')));
    assert.ok(!bat.includes('advfirewall'), 'XP has no advfirewall');
    assert.ok(bat.endsWith('(goto) 2>nul & del "%~f0"\r\n'), 'it deletes itself: it holds passwords');
    assert.ok(!/[^\r]\n/.test(bat), 'CRLF line ends only');
  });

  it('Windows 10: advfirewall, ipv4 netsh, PowerShell rename, quoting of metacharacters (golden)', () => {
    const bat = windowsConfigBat(windowsSpec('win10.conf'));
    assertGolden('windows/win10/config.bat', bat);
    const l = lines(bat);
    assert.ok(l.includes(`powershell -NoProfile -NonInteractive -Command "Rename-Computer -NewName 'WIN10-DEV' -Force"`));
    assert.ok(l.includes('net user Administrator "R00t&100%%^!"'), '% doubled, & ^ ! literal inside quotes');
    assert.ok(l.includes('net user Administrator /active:yes'));
    assert.ok(l.includes('net localgroup "Dev Team" /add'));
    assert.ok(l.includes('net localgroup "Administrators" "ada" /add'));
    assert.ok(l.includes('netsh interface ipv4 add dnsservers name="Ethernet" address=10.0.0.3 index=2'));
    assert.ok(l.includes('netsh interface ipv4 set address name="Ethernet 2" source=dhcp'));
    assert.ok(l.includes('netsh advfirewall firewall add rule name="vmgen-all-27015-27030" dir=in action=allow protocol=UDP localport=27015-27030'));
    assert.ok(l.includes('netsh advfirewall firewall add rule name="ping" dir=in action=allow protocol=icmpv4:8,any'));
    assert.ok(!bat.includes('netsh firewall '), 'no XP firewall commands after Vista');
  });

  it('Windows 7 uses advfirewall but wmic and the "Local Area Connection" names', () => {
    const spec = windowsSpec('win10.conf');
    const win7 = { ...spec, os: findOs(catalogs, 'windows7-64')! };
    const l = lines(windowsConfigBat(win7));
    assert.ok(l.some((x) => x.startsWith('wmic computersystem')));
    assert.ok(l.some((x) => x.startsWith('netsh interface ipv4 set address name="Local Area Connection 2"')));
    assert.ok(l.some((x) => x.startsWith('netsh advfirewall')));
  });

  it('XP opens a port range one port at a time, and refuses a huge one', () => {
    const spec = windowsSpec('winxp-seed.conf');
    const l = lines(windowsConfigBat({ ...spec, openPorts: [{ proto: 'udp', from: 5000, to: 5002 }] }));
    assert.deepEqual(l.filter((x) => x.startsWith('netsh firewall')), [5000, 5001, 5002].map((p) => `netsh firewall add portopening protocol=UDP port=${p} name="vmgen-udp-5000-5002"`));
    throwsScript(() => windowsConfigBat({ ...spec, openPorts: [{ proto: 'tcp', from: 1000, to: 2000 }] }), /single ports/);
  });

  it('refuses what cmd.exe or net cannot take', () => {
    const spec = windowsSpec('winxp-seed.conf');
    const u = spec.users[0]!;
    throwsScript(() => windowsConfigBat({ ...spec, users: [{ ...u, password: { plain: 'a"b' } }] }), /double quote/);
    throwsScript(() => windowsConfigBat({ ...spec, users: [{ ...u, password: { plain: 'line\nbreak' } }] }), /control characters/);
    throwsScript(() => windowsConfigBat({ ...spec, users: [{ ...u, password: { plain: '/add' } }] }), /starts with "\/"/);
    throwsScript(() => windowsConfigBat({ ...spec, users: [{ ...u, password: { hash: '$6$x$y' } }] }), /crypt/);
    throwsScript(() => windowsConfigBat({ ...spec, rootPassword: { plain: 'ends\\' } }), /trailing backslash/);
    throwsScript(() => windowsConfigBat({ ...spec, hostname: 'far_too_long_computer_name' }), /computer name/);
    throwsScript(() => windowsConfigBat({ ...spec, openPorts: [{ proto: 'tcp', from: 80, to: 80, description: 'say "hi"' }] }), /double quote/);
  });

  it('a user without a password is created disabled; groups are joined after', () => {
    const spec = windowsSpec('winxp-seed.conf');
    const l = lines(windowsConfigBat({ ...spec, users: [{ ...spec.users[0]!, password: undefined as never }] }));
    const add = l.findIndex((x) => x.startsWith('net user "caesar" /add /active:no'));
    assert.ok(add >= 0);
    assert.ok(l.indexOf('net localgroup "julius" "caesar" /add') > add);
  });

  it('raw rules are netsh commands without cmd.exe metacharacters', () => {
    assert.equal(rawRuleLine('  netsh advfirewall firewall add rule name="x y" dir=in action=block remoteip=10.0.0.0/8 ', 0),
      'netsh advfirewall firewall add rule name="x y" dir=in action=block remoteip=10.0.0.0/8');
    throwsScript(() => rawRuleLine('del C:\\x', 0), /netsh command/);
    for (const bad of ['netsh x & del y', 'netsh x | y', 'netsh x > y', 'netsh %PATH%', 'netsh x ^& y', 'netsh a!b!']) {
      throwsScript(() => rawRuleLine(bad, 2), /item 3/);
    }
    throwsScript(() => rawRuleLine('netsh name="x', 0), /unbalanced/);
  });
});

describe('cmd.exe quoting', () => {
  it('quotes and doubles %, and names the problem otherwise', () => {
    assert.equal(batchQuote('a b&c|d<e>f^g!h', 'x'), '"a b&c|d<e>f^g!h"');
    assert.equal(batchQuote('50%', 'x'), '"50%%"');
    assert.equal(batchProblem('ok'), undefined);
    assert.match(batchProblem('"') ?? '', /double quote/);
    assert.match(batchProblem('\t') ?? '', /control/);
    assert.match(batchProblem('C:\\') ?? '', /backslash/);
  });
});
