import assert from 'node:assert/strict';
import { includesAll, someItem, show } from '../helpers/assert-values.js';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findOs, loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { resolveSpec, type ResolvedNic, type ResolvedSpec } from '../../src/config/resolve.js';
import { VmgenError } from '../../src/errors.js';
import { batchProblem, batchQuote } from '../../src/families/windows/batch.js';
import { CONFIG_BAT, WINDOWS_DIR, rawRuleLine, windowsConfigBat, windowsConfigurator } from '../../src/families/windows/configure.js';
import { FAMILIES } from '../../src/families/registry.js';
import { assertGolden } from '../helpers/golden.js';

const catalogs = loadCatalogs({ env: {} });
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/windows/${name}`, import.meta.url));

function windowsSpec(name: string, target = 'vmware'): ResolvedSpec {
  const loaded = loadConfig(readFileSync(fixture(name), 'utf8'), { catalogs });
  if (loaded.config === undefined) throw new Error(`${name} does not load: ${JSON.stringify(loaded.diagnostics)}`);
  return resolveSpec(loaded.config, catalogs, { target, defaultMirror: 'http://mirror.example/debian' });
}

const lines = (bat: string): string[] => bat.split('\r\n');
const withMac = (nic: ResolvedNic, mac: string): ResolvedNic => ({ ...nic, mac });
const throwsScript = (fn: () => unknown, re: RegExp): void => {
  assert.throws(fn, (err: unknown) => err instanceof VmgenError && err.code === 'VMG_WINDOWS_SCRIPT' && re.test(err.message));
};

describe('Windows configurator: config.bat (seed Listing 4.7)', () => {
  it('is registered for the OS table\'s windows configurator and plans config.bat only', () => {
    assert.equal(FAMILIES.windows.configurator, windowsConfigurator);
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
      'net user Administrator "pass2" /Y',
      'net localgroup "vmg" /add',
      'net localgroup "julius" /add',
      'net localgroup "julius" "caesar" /add',
      'net localgroup "vmg" "vv" /add',
      // eth0 has hw_addr 00:50:56:00:be:ef: its adapter is looked up by MAC, not by default name.
      'if defined VMGEN_NIC netsh interface ip set address name="!VMGEN_NIC!" source=static addr=192.168.1.2 mask=255.255.255.0 gateway=192.168.1.1 gwmetric=1',
      'if defined VMGEN_NIC netsh interface ip set dns name="!VMGEN_NIC!" source=static addr=192.168.1.254 register=primary',
      'netsh firewall add portopening protocol=TCP port=22 name="ssh"',
      'netsh firewall add portopening protocol=ALL port=65000 name="myport"',
    ]) assert.ok(l.includes(expected), `missing: ${expected}`);
    someItem(l, (x) => x.startsWith('net user "caesar" "alesia" /add'), 'net user "caesar" "alesia" /add line');
    assert.ok(l.some((x) => x.startsWith(`for /f "tokens=1,* delims==" %%a in ('wmic nic where "MACAddress='00:50:56:00:BE:EF' and NetConnectionID is not null"`)), 'eth0 is looked up by its MAC, upper-cased');
    assert.ok(!bat.includes('Local Area Connection'), 'no assumed adapter name when the MAC is known');
    assert.ok(!bat.includes('advfirewall'), 'XP has no advfirewall');
    assert.ok(bat.endsWith('(goto) 2>nul & del "%~f0"\r\n'), 'it deletes itself: it holds passwords');
    assert.ok(!/[^\r]\n/.test(bat), 'CRLF line ends only');
  });

  it('Windows 10: advfirewall, ipv4 netsh, PowerShell rename, quoting of metacharacters (golden)', () => {
    const bat = windowsConfigBat(windowsSpec('win10.conf'));
    assertGolden('windows/win10/config.bat', bat);
    const l = lines(bat);
    includesAll(l, [
      `powershell -NoProfile -NonInteractive -Command "Rename-Computer -NewName 'WIN10-DEV' -Force"`,
      'net user Administrator /active:yes',
      'net localgroup "Dev Team" /add',
      'net localgroup "Administrators" "ada" /add',
      'netsh interface ipv4 add dnsservers name="Ethernet" address=10.0.0.3 index=2',
      'netsh interface ipv4 set address name="Ethernet 2" source=dhcp',
      'netsh advfirewall firewall add rule name="vmgen-all-27015-27030" dir=in action=allow protocol=UDP localport=27015-27030',
      'netsh advfirewall firewall add rule name="ping" dir=in action=allow protocol=icmpv4:8,any',
    ]);
    assert.ok(l.includes('net user Administrator "R00t&100%%^!" /Y'), '% doubled, & ^ ! literal inside quotes');
    assert.ok(!bat.includes('netsh firewall '), 'no XP firewall commands after Vista');
  });

  it('Windows 7 uses advfirewall but wmic and the "Local Area Connection" names (golden)', () => {
    // The Windows 10 sample on Windows 7, with a MAC on eth0 only: one adapter found by wmic,
    // the other by its default name.
    const spec = windowsSpec('win10.conf');
    const win7 = { ...spec, os: findOs(catalogs, 'windows7-64')!, nics: [withMac(spec.nics[0]!, '00:50:56:00:10:01'), spec.nics[1]!] };
    const bat = windowsConfigBat(win7);
    assertGolden('windows/win7/config.bat', bat);
    const l = lines(bat);
    someItem(l, (x) => x.startsWith('wmic computersystem'), 'wmic computersystem line');
    assert.ok(l.some((x) => x.startsWith(`for /f "tokens=1,* delims==" %%a in ('wmic nic where "MACAddress='00:50:56:00:10:01' and NetConnectionID is not null"`)), 'eth0 is looked up by wmic');
    assert.ok(l.includes('if defined VMGEN_NIC netsh interface ipv4 set address name="!VMGEN_NIC!" source=static address=10.0.0.5 mask=255.255.255.0 gateway=10.0.0.1 gwmetric=1'), 'eth0 is addressed by the name found');
    someItem(l, (x) => x.startsWith('netsh interface ipv4 set address name="Local Area Connection 2"'), 'address line for "Local Area Connection 2"');
    assert.ok(!l.some((x) => x.includes('name="Local Area Connection"')), 'eth0 is not addressed by its assumed name');
    someItem(l, (x) => x.startsWith('netsh advfirewall'), 'netsh advfirewall line');
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
    assert.ok(add >= 0, `no net user "caesar" /add /active:no in ${show(l)}`);
    assert.ok(l.indexOf('net localgroup "julius" "caesar" /add') > add, show(l));
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

describe('config.bat: adapters found by MAC address', () => {
  const xp = windowsSpec('winxp-seed.conf');
  const win10 = windowsSpec('win10.conf');

  /** The lines config.bat writes for the NICs: between the user lines and the firewall lines. */
  const nicBlock = (spec: ResolvedSpec): string[] => {
    const l = lines(windowsConfigBat({ ...spec, openPorts: [], rawRules: [] }));
    const lastNet = l.map((x) => x.startsWith('net ')).lastIndexOf(true);
    return l.slice(lastNet + 1, l.indexOf('(goto) 2>nul & del "%~f0"')).filter((x) => x !== '');
  };

  it('XP, static NIC with a MAC: look up the name by MAC, report a miss, address it only if found', () => {
    assert.deepEqual(nicBlock(xp), [
      'rem eth0: the adapter with MAC address 00:50:56:00:BE:EF, whatever Windows named it.',
      'set "VMGEN_NIC="',
      'set "VMGEN_NIC_DUP="',
      `for /f "tokens=1,* delims==" %%a in ('wmic nic where "MACAddress='00:50:56:00:BE:EF' and NetConnectionID is not null" get NetConnectionID /value 2^>nul ^<nul')`
        + ' do if /i "%%a"=="NetConnectionID" for /f "delims=" %%c in ("%%b") do if defined VMGEN_NIC (set "VMGEN_NIC_DUP=1") else set "VMGEN_NIC=%%c"',
      'if defined VMGEN_NIC_DUP set "VMGEN_NIC="',
      'if not defined VMGEN_NIC echo vmgen: eth0 is not configured: no single network adapter has the MAC address 00:50:56:00:BE:EF',
      'setlocal EnableDelayedExpansion',
      'if defined VMGEN_NIC netsh interface ip set address name="!VMGEN_NIC!" source=static addr=192.168.1.2 mask=255.255.255.0 gateway=192.168.1.1 gwmetric=1',
      'if defined VMGEN_NIC netsh interface ip set dns name="!VMGEN_NIC!" source=static addr=192.168.1.254 register=primary',
      'endlocal',
    ]);
  });

  it('the MAC is written as wmic reports it, whatever form the spec holds, and nothing else gets in', () => {
    for (const given of ['00:50:56:00:be:ef', '00-50-56-00-BE-EF', '00:50:56:00:Be:eF']) {
      const block = nicBlock({ ...xp, nics: [withMac(xp.nics[0]!, given)] });
      assert.ok(block.some((x) => x.includes("wmic nic where \"MACAddress='00:50:56:00:BE:EF' and")), given);
      assert.ok(!block.some((x) => /be:ef|BE-EF/.test(x)), `${given}: only the upper-case, colon form`);
    }
    for (const bad of ['00:50:56:00:be:ef" & del C:\\x', "00:50:56:00:be:ef' or 1=1", '00:50:56:00:be', '']) {
      throwsScript(() => windowsConfigBat({ ...xp, nics: [withMac(xp.nics[0]!, bad)] }), /hw_addr of eth0/);
    }
  });

  it('without a MAC the default adapter name is kept, and no lookup is written', () => {
    const noMac: ResolvedNic = { ...xp.nics[0]! };
    delete noMac.mac;
    const block = nicBlock({ ...xp, nics: [noMac] });
    assert.deepEqual(block, [
      'netsh interface ip set address name="Local Area Connection" source=static addr=192.168.1.2 mask=255.255.255.0 gateway=192.168.1.1 gwmetric=1',
      'netsh interface ip set dns name="Local Area Connection" source=static addr=192.168.1.254 register=primary',
    ]);
  });

  it('Windows 10: Get-NetAdapter (wmic is gone from 11 24H2), dashes in the MAC; DHCP NICs too', () => {
    const spec = { ...win10, nics: [win10.nics[0]!, withMac(win10.nics[1]!, '02:00:de:ad:be:ef')] };
    const block = nicBlock(spec);
    assert.ok(block.includes('netsh interface ipv4 set address name="Ethernet" source=static address=10.0.0.5 mask=255.255.255.0 gateway=10.0.0.1 gwmetric=1'), 'eth0 has no MAC');
    assert.ok(block.includes(`for /f "delims=" %%a in ('powershell -NoProfile -NonInteractive -Command "Get-NetAdapter | Where-Object MacAddress -eq '02-00-DE-AD-BE-EF' | ForEach-Object Name" 2^>nul ^<nul') do if defined VMGEN_NIC (set "VMGEN_NIC_DUP=1") else set "VMGEN_NIC=%%a"`), block.join('\n'));
    assert.ok(block.includes('if defined VMGEN_NIC netsh interface ipv4 set address name="!VMGEN_NIC!" source=dhcp'), block.join('\n'));
    assert.ok(block.includes('if defined VMGEN_NIC netsh interface ipv4 set dnsservers name="!VMGEN_NIC!" source=dhcp'), block.join('\n'));
    assert.ok(!block.some((x) => x.includes('Ethernet 2')), 'eth1 is not addressed by its assumed name');
    assert.ok(!block.some((x) => x.includes('wmic')), 'no wmic after Windows 10');
  });

  it('every NIC looks its name up afresh, and a NIC name unfit for a batch line is not written', () => {
    const spec = { ...xp, nics: [withMac(xp.nics[0]!, '00:50:56:00:10:01'), { ...withMac(xp.nics[0]!, '00:50:56:00:10:02'), name: 'a&b', index: 1 }] };
    const block = nicBlock(spec);
    assert.equal(block.filter((x) => x === 'set "VMGEN_NIC="').length, 2, 'the first NIC\'s name must not leak into the second');
    assert.ok(block.some((x) => x.startsWith('if not defined VMGEN_NIC echo vmgen: adapter 2 is not configured:')), block.join('\n'));
    assert.ok(!block.some((x) => x.includes('a&b')), 'the unsafe NIC name is not written');
    // Each lookup precedes the netsh lines it feeds, and only found adapters are configured.
    const netsh = block.filter((x) => x.includes('netsh '));
    assert.ok(netsh.length > 0 && netsh.every((x) => x.startsWith('if defined VMGEN_NIC netsh ') && x.includes('name="!VMGEN_NIC!"')), netsh.join('\n'));
    assert.deepEqual(block.filter((x) => /EnableDelayedExpansion|^endlocal$/.test(x)), ['setlocal EnableDelayedExpansion', 'endlocal', 'setlocal EnableDelayedExpansion', 'endlocal']);
  });

  it('the command run by for /f escapes its redirections for the outer parse', () => {
    for (const spec of [xp, { ...win10, nics: [withMac(win10.nics[0]!, '00:50:56:00:10:01')] }]) {
      const line = nicBlock(spec).find((x) => x.startsWith('for /f '))!;
      const command = /in \('(.*)'\) do /.exec(line)?.[1];
      assert.ok(command !== undefined, line);
      // Outside double quotes cmd would apply < > | & to the for line itself: each needs a caret.
      let quoted = false;
      for (let i = 0; i < command.length; i++) {
        const ch: string = command[i]!;
        if (ch === '"') quoted = !quoted;
        else if (!quoted && '<>|&'.includes(ch)) assert.equal(command[i - 1], '^', `${ch} at ${i} in ${command}`);
      }
      assert.equal(quoted, false, 'balanced double quotes');
    }
  });
});

describe('config.bat: passwords longer than 14 characters', () => {
  const spec = windowsSpec('winxp-seed.conf');
  const long = 'Twenty-chars-pass-20';

  /** Each net user command of the script that carries `password`, split at ||. */
  const passwordCommands = (bat: string, password: string): string[] =>
    lines(bat).flatMap((x) => x.split(' || ')).filter((x) => x.startsWith('net user ') && x.includes(`"${password}"`));

  it('every net user that sets one answers the "(Y/N)" prompt with /Y', () => {
    assert.equal(long.length, 20);
    const bat = windowsConfigBat({ ...spec, rootPassword: { plain: long }, users: [{ ...spec.users[0]!, password: { plain: long } }] });
    const commands = passwordCommands(bat, long);
    assert.deepEqual(commands, [
      `net user Administrator "${long}" /Y`,
      `net user "caesar" "${long}" /add /homedir:"C:\\Users\\caesar" /Y`,
      `net user "caesar" "${long}" /Y`,
    ]);
  });

  it('short passwords get /Y too, so no length rule has to match net\'s', () => {
    const commands = passwordCommands(windowsConfigBat(spec), 'alesia');
    assert.equal(commands.length, 2);
    assert.ok(commands.every((x) => x.endsWith(' /Y')), commands.join('\n'));
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
