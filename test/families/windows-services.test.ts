import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import type { WindowsKit } from '../../src/catalog/schema.js';
import { resolveSpec, type ResolvedSpec } from '../../src/config/resolve.js';
import { dirSources } from '../../src/config/sources.js';
import { VmgenError } from '../../src/errors.js';
import { findWindowsFacts } from '../../src/families/windows/build.js';
import { CONFIG_BAT, WINDOWS_DIR, windowsConfigBat, windowsConfigFiles, windowsPlan } from '../../src/families/windows/configure.js';
import { installLine, windowsInstallerFiles } from '../../src/families/windows/kits.js';
import { renderFirstLogonBat, sourceProvisionPayload } from '../../src/families/windows/provision.js';
import { SERVICES_PS1, psQuote, renderServicesPs1, soaMailbox } from '../../src/families/windows/services.js';
import { loadConfig } from '../../src/validate/load.js';
import { includesAll, show } from '../helpers/assert-values.js';
import { assertGolden } from '../helpers/golden.js';

/*
 * Windows Server's services, [files], first-logon scripts and kit parameters (issue 15). Nothing
 * here boots Windows: the generated scripts are compared byte for byte with test/golden/windows/win2022/.
 */

const catalogs = loadCatalogs({ env: {} });
const FIXTURES = fileURLToPath(new URL('../fixtures/windows/', import.meta.url));
const LAB = readFileSync(`${FIXTURES}win2022-lab.conf`, 'utf8');

function load(text: string) {
  return loadConfig(text, { catalogs });
}

function specOf(text: string): ResolvedSpec {
  const loaded = load(text);
  if (loaded.config === undefined) throw new Error(`does not load: ${show(loaded.diagnostics)}`);
  return resolveSpec(loaded.config, catalogs, { target: 'qemu', defaultMirror: '' });
}

const lines = (text: string): string[] => text.split('\r\n');

describe('Windows Server 2022: the lab machine (golden)', () => {
  const spec = specOf(LAB);

  it('validates without a diagnostic', () => {
    assert.deepEqual(load(LAB).diagnostics, []);
  });

  it('vmgen-services.ps1: DNS, DHCP and IIS from [dns], [dhcp] and [web]', () => {
    const ps1 = renderServicesPs1(spec);
    assert.ok(ps1 !== undefined, 'a script for a config with services');
    assertGolden('windows/win2022/vmgen-services.ps1', ps1);
    assert.ok(ps1.startsWith('\uFEFF'), 'a UTF-8 BOM: Windows PowerShell 5.1 reads a file without one in the ANSI code page');
    assert.doesNotMatch(ps1, /[^\r]\n/, 'CRLF line ends only');
    includesAll(lines(ps1), [
      'Install-WindowsFeature -Name DNS -IncludeManagementTools | Out-Null',
      'Install-WindowsFeature -Name DHCP -IncludeManagementTools | Out-Null',
      'Install-WindowsFeature -Name Web-Server -IncludeManagementTools | Out-Null',
      "Add-DnsServerPrimaryZone -Name 'lab.example' -ZoneFile 'lab.example.dns'",
      "Add-DnsServerResourceRecordAAAA -ZoneName 'lab.example' -Name 'www' -TimeToLive (New-TimeSpan -Seconds 300) -IPv6Address 'fd00:2::1'",
      "Add-DnsServerResourceRecordCName -ZoneName 'lab.example' -Name 'mail' -TimeToLive (New-TimeSpan -Seconds 300) -HostNameAlias 'labsrv.lab.example.'",
      "Add-DnsServerResourceRecordMX -ZoneName 'lab.example' -Name '@' -TimeToLive (New-TimeSpan -Seconds 300) -MailExchange 'mail.lab.example.' -Preference 10",
      // The TXT value holds a single quote: doubled, the only escape of a single-quoted string.
      "Add-DnsServerResourceRecord -ZoneName 'lab.example' -Name '@' -TimeToLive (New-TimeSpan -Seconds 300) -Txt -DescriptiveText 'it''s the lab'",
      "Set-DnsServerForwarder -IPAddress '192.0.2.1'",
      "Add-DhcpServerv4Scope -Name 'eth1' -StartRange '10.0.2.100' -EndRange '10.0.2.199' -SubnetMask '255.255.255.0' -LeaseDuration (New-TimeSpan -Seconds 7200) -State Active",
      "Set-DhcpServerv4OptionValue -ScopeId '10.0.2.0' -Router '10.0.2.1' -DnsServer '10.0.2.1' -DnsDomain 'lab.example' -Force",
      "Add-DhcpServerv4Reservation -ScopeId '10.0.2.0' -IPAddress '10.0.2.50' -ClientId '52-54-00-00-02-50' -Name 'printer'",
      "$adapter = @(Get-NetAdapter | Where-Object MacAddress -eq '52-54-00-00-02-02')",
      "Set-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\ServerManager\\Roles\\12' -Name ConfigurationState -Value 2",
      "New-Website -Name 'lab' -HostHeader 'www.lab.example' -PhysicalPath 'C:\\inetpub\\lab' -Port 80 | Out-Null",
      "New-WebBinding -Name 'lab' -Protocol http -Port 80 -HostHeader 'lab.example'",
      "$cert = New-SelfSignedCertificate -DnsName 'www.lab.example', 'lab.example' -CertStoreLocation 'Cert:\\LocalMachine\\My'",
      "New-WebBinding -Name 'lab' -Protocol https -Port 443 -HostHeader 'lab.example' -SslFlags 1",
    ]);
    // The scope's adapter is bound after every binding was switched off: only eth1 serves DHCP.
    const l = lines(ps1);
    assert.ok(l.indexOf('Get-DhcpServerv4Binding | Set-DhcpServerv4Binding -BindingState $false') < l.indexOf('Set-DhcpServerv4Binding -InterfaceAlias $adapter[0].Name -BindingState $true'),
      'all bindings off before the scope NIC is bound');
  });

  it('config.bat: [files] copied, the services script run after the adapters are addressed, first-logon registered', () => {
    const bat = windowsConfigBat(spec);
    assertGolden('windows/win2022/config.bat', bat);
    const l = lines(bat);
    includesAll(l, [
      'if exist "%~dp0files\\1\\" (xcopy "%~dp0files\\1" "C:\\inetpub\\lab" /e /i /h /k /y /q >nul) else (copy /y "%~dp0files\\1" "C:\\inetpub\\lab" >nul)',
      'icacls "C:\\inetpub\\lab" /setowner "webadmin" /t /c /q >nul',
      `powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "%~dp0${SERVICES_PS1}"`,
      'reg add "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\RunOnce" /v vmgen-first-logon /t REG_SZ /d "cmd /c C:\\vmgen\\first-logon.bat" /f >nul',
    ]);
    const at = (prefix: string): number => l.findIndex((x) => x.startsWith(prefix));
    assert.ok(at('if defined VMGEN_NIC netsh interface ipv4 set address') < at('powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass'), 'DHCP binds to an addressed adapter');
    assert.ok(at('if exist "%~dp0files\\1\\"') < at('powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass'), 'IIS serves files already in place');
    // motd is owned by the default owner: no icacls for it.
    assert.equal(l.filter((x) => x.startsWith('icacls')).length, 2, show(l.filter((x) => x.startsWith('icacls'))));
  });

  it('setup.bat: install_dir and args in each kit type\'s own form', () => {
    const [setup] = windowsInstallerFiles(spec, catalogs);
    assert.equal(setup?.path, `${WINDOWS_DIR}/setup.bat`);
    assertGolden('windows/win2022/setup.bat', setup.content);
    includesAll(lines(setup.content), [
      'msiexec /i "%KITS%\\python-setup.msi" /qn /norestart INSTALLDIR="C:\\Tools\\Python" TARGETDIR="C:\\Tools\\Python" ALLUSERS=1',
      '"%KITS%\\gvim-setup.exe" /S /D=C:\\Tools\\Vim',
      '"%KITS%\\Git-setup.exe" /VERYSILENT /NORESTART /NOICONS',
    ]);
  });

  it('first-logon.bat runs the first-boot scripts in order, stops at a failure, records success', () => {
    const bat = renderFirstLogonBat(spec.provision.scripts);
    assertGolden('windows/win2022/first-logon.bat', bat);
    includesAll(lines(bat), [
      'call "%~dp0first-logon\\1.bat" >> "%~dp0first-logon.log" 2>&1',
      'powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "%~dp0first-logon\\2.ps1" >> "%~dp0first-logon.log" 2>&1',
      'echo %DATE% %TIME% > "%~dp0first-logon.done"',
    ]);
  });

  it('the plan carries config.bat and what it reads: the script, inline files, inline scripts, first-logon.bat', () => {
    const plan = windowsPlan({ spec, nicOwner: 'guest' });
    assert.deepEqual(plan.files.map((f) => f.path), [
      `${WINDOWS_DIR}/${CONFIG_BAT}`, `${WINDOWS_DIR}/${SERVICES_PS1}`, '/vmgen/files/2', '/vmgen/first-logon/1.bat', '/vmgen/first-logon.bat',
    ]);
    const files = windowsConfigFiles(spec);
    assert.equal(files.find((f) => f.path === '/vmgen/files/2')?.content, "Welcome to the lab's server (it's Windows).\n");
    // The triple-quoted run's first and last line breaks are not lines of the script.
    assert.equal(files.find((f) => f.path === '/vmgen/first-logon/1.bat')?.content, 'echo first logon > C:\\lab\\first-logon.txt\r\nipconfig /all\r\n');
  });

  it('the build reads the sources beside the config: a directory tree under files\\1, the .ps1 script', async () => {
    const payload = sourceProvisionPayload(spec, dirSources(FIXTURES));
    assert.deepEqual(payload.map((p) => p.path), ['/vmgen/files/1/img/logo.png', '/vmgen/files/1/index.html', '/vmgen/first-logon/2.ps1']);
    assert.equal(String(payload[1]?.content), '<h1>lab.example on Windows</h1>\n');
    const facts = await findWindowsFacts({
      spec, catalogs, target: { kind: 'vm', label: 'QEMU' }, options: { kitsDir: FIXTURES }, env: {}, sources: dirSources(FIXTURES),
    }).catch((err: unknown) => err);
    // The fixture directory holds no kits: the kits are looked for first and reported missing.
    assert.ok(facts instanceof VmgenError && facts.code === 'VMG_KIT_MISSING', `kits missing: ${String(facts)}`);
    assert.throws(() => sourceProvisionPayload(spec, undefined), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_INTERNAL');
  });
});

describe('PowerShell quoting: no value is interpolated', () => {
  it('single quotes, typographic ones included, are doubled; $ ` " stay literal', () => {
    assert.equal(psQuote("it's"), "'it''s'");
    assert.equal(psQuote('a\u2019b'), "'a\u2019\u2019b'");
    assert.equal(psQuote('$(Stop-Computer) `n "x"'), "'$(Stop-Computer) `n \"x\"'");
    assert.equal(psQuote("'; Remove-Item C:\\ -Recurse; '"), "'''; Remove-Item C:\\ -Recurse; '''");
    assert.throws(() => psQuote('two\nlines'), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_WINDOWS_SCRIPT');
  });

  it('a zone contact becomes the SOA mailbox, dots in its local part escaped', () => {
    assert.equal(soaMailbox('hostmaster@lab.example'), 'hostmaster.lab.example.');
    assert.equal(soaMailbox('ada.lovelace@lab.example'), 'ada\\.lovelace.lab.example.');
  });

  it('no script for a config without [web], [dns], [dhcp]; none of it on a client release', () => {
    const plain = LAB.slice(0, LAB.indexOf('\n[web]') + 1);
    assert.equal(renderServicesPs1(specOf(plain)), undefined);
    assert.doesNotMatch(windowsConfigBat(specOf(plain)), /vmgen-services/);
    const spec = specOf(LAB);
    const client = { ...spec, os: { ...spec.os, release: '10', label: 'Windows 10 (64-bit)' } };
    assert.throws(() => renderServicesPs1(client), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_UNSUPPORTED' && /Windows Server role/.test(e.message));
  });
});

describe('kit parameters per kit type', () => {
  const kit = (k: WindowsKit) => k;
  const cases: Array<{ name: string; k: WindowsKit; params?: { installDir?: string; args?: string }; line: string }> = [
    { name: 'msi without parameters', k: kit({ type: 'msi', setupFile: 'a.msi' }), line: 'msiexec /i "%KITS%\\a.msi" /qn /norestart' },
    { name: 'msi with both', k: kit({ type: 'msi', setupFile: 'a.msi' }), params: { installDir: 'C:\\Program Files\\A', args: 'ADDLOCAL=ALL' }, line: 'msiexec /i "%KITS%\\a.msi" /qn /norestart INSTALLDIR="C:\\Program Files\\A" TARGETDIR="C:\\Program Files\\A" ADDLOCAL=ALL' },
    { name: 'simple, the seed\'s /S kept with user args', k: kit({ type: 'simple', setupFile: 'a.exe' }), params: { args: '/NCRC' }, line: '"%KITS%\\a.exe" /S /NCRC' },
    { name: 'NSIS: /D= last, unquoted', k: kit({ type: 'simple', setupFile: 'a.exe', args: '/S', installDir: '/D={dir}' }), params: { installDir: 'C:\\Program Files\\A', args: '/NCRC' }, line: '"%KITS%\\a.exe" /S /NCRC /D=C:\\Program Files\\A' },
    { name: 'Inno Setup: /DIR= quoted', k: kit({ type: 'simple', setupFile: 'a.exe', args: '/VERYSILENT', installDir: '/DIR="{dir}"' }), params: { installDir: 'C:\\A 100%' }, line: '"%KITS%\\a.exe" /VERYSILENT /DIR="C:\\A 100%%"' },
    { name: 'archive: extracted to install_dir', k: kit({ type: 'archive', setupFile: 'a.zip' }), params: { installDir: 'C:\\Tools\\A' }, line: '"%SEVENZIP%" x -y -o"C:\\Tools\\A" "%KITS%\\a.zip"' },
    { name: 'archive: default folder', k: kit({ type: 'archive', setupFile: 'a.zip' }), line: '"%SEVENZIP%" x -y -o"%ProgramFiles%\\a" "%KITS%\\a.zip"' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(installLine({ app: 'a', kit: c.k, ...(c.params === undefined ? {} : { params: c.params }) }), c.line);
    });
  }
  it('a simple kit that does not say how it takes a directory refuses one', () => {
    assert.throws(() => installLine({ app: 'a', kit: { type: 'simple', setupFile: 'a.exe' }, params: { installDir: 'C:\\A' } }),
      (e: unknown) => e instanceof VmgenError && /does not say how it takes an install directory/.test(e.message));
  });
});

/** The lab config edited; a diagnostic is expected on each line starting with a marker. */
interface RuleCase {
  name: string;
  edit: (text: string) => string;
  marker: string | string[];
  code: string;
  severity?: 'error' | 'warning';
}

const replace = (from: string, to: string) => (text: string): string => {
  assert.ok(text.includes(from), `the fixture holds ${JSON.stringify(from)}`);
  return text.replace(from, to);
};

const RULES: RuleCase[] = [
  { name: 'a build script cannot run for Windows', edit: replace('when = first-boot\n        run', 'when = build\n        run'), marker: 'when = build', code: 'CFG_SCRIPT_BUILD_WINDOWS' },
  { name: 'a script source that is neither batch nor PowerShell', edit: replace('source = announce.ps1', 'source = announce.sh'), marker: 'source = announce.sh', code: 'CFG_SCRIPT_WINDOWS' },
  { name: 'a [files] path that is not a Windows path', edit: replace('path = C:\\lab\\readme.txt', 'path = /etc/motd'), marker: 'path = /etc/motd', code: 'CFG_FILE_PATH' },
  { name: 'a [files] path cmd.exe cannot take', edit: replace('path = C:\\lab\\readme.txt', 'path = C:\\lab\\'), marker: 'path = C:\\lab\\', code: 'CFG_WINDOWS_PATH' },
  { name: 'a [files] path with a character Windows forbids', edit: replace('path = C:\\lab\\readme.txt', 'path = C:\\lab\\read?me.txt'), marker: 'path = C:\\lab\\read?me.txt', code: 'CFG_FILE_PATH' },
  { name: 'a [files] mode means nothing on Windows', edit: replace('owner = webadmin', 'owner = webadmin\n        mode = 0644'), marker: 'mode = 0644', code: 'CFG_IGNORED_WINDOWS', severity: 'warning' },
  { name: 'an IIS document root that is a Linux path', edit: replace('root = C:\\inetpub\\lab', 'root = /srv/www/lab'), marker: 'root = /srv/www/lab', code: 'CFG_WEB_ROOT' },
  { name: 'an IIS site name IIS refuses', edit: replace('[[lab]]\n        server_name', '[[lab/site]]\n        server_name'), marker: '[[lab/site]]', code: 'CFG_WEB_SITE_NAME' },
  { name: 'server roles on a client release', edit: replace('os = windows2022srv-64', 'os = windows10-64'), marker: ['[web]', '[dns]', '[dhcp]'], code: 'CFG_SERVICE_WINDOWS' },
  { name: 'kit parameters for an app the config does not install', edit: replace('[[git]]\n        args', '[[nodejs]]\n        args'), marker: '[[nodejs]]', code: 'CFG_KIT_NOT_INSTALLED' },
  { name: 'an install_dir that is not a Windows path', edit: replace('install_dir = C:\\Tools\\Python', 'install_dir = /opt/python'), marker: 'install_dir = /opt/python', code: 'CFG_WINDOWS_PATH' },
  { name: 'an install_dir for a simple kit that cannot take one', edit: replace('[kits]\n', '[gui]\n    mozilla-firefox = 1\n[kits]\n    [[mozilla-firefox]]\n        install_dir = C:\\Firefox\n'), marker: 'install_dir = C:\\Firefox', code: 'CFG_KIT_INSTALL_DIR' },
  { name: 'an install_dir with a trailing backslash', edit: replace('install_dir = C:\\Tools\\Vim', 'install_dir = C:\\Tools\\Vim\\'), marker: 'install_dir = C:\\Tools\\Vim\\', code: 'CFG_WINDOWS_PATH' },
];

describe('Windows rules of [files], [scripts], [web] and [kits], at their lines', () => {
  for (const c of RULES) {
    it(c.name, () => {
      const text = c.edit(LAB);
      const markers = typeof c.marker === 'string' ? [c.marker] : c.marker;
      const expected = markers.map((m) => {
        const line = text.split('\n').findIndex((l) => l.trimStart().startsWith(m)) + 1;
        assert.ok(line > 0, `the edited config has a line starting with ${m}`);
        return [line, c.severity ?? 'error'];
      });
      const found = load(text).diagnostics.filter((d) => d.code === c.code);
      assert.deepEqual(found.map((d) => [d.line, d.severity]), expected, show(load(text).diagnostics));
    });
  }

  it('XP: no icacls for an owner, no PowerShell for a .ps1 script', () => {
    const xp = `${readFileSync(`${FIXTURES}winxp-seed.conf`, 'utf8')}\n[files]\n    [[f]]\n        path = C:\\lab\\a.txt\n        content = a\n        owner = vv\n[scripts]\n    [[s]]\n        when = first-boot\n        source = announce.ps1\n`;
    const text = xp.split('\n');
    const lineOf = (start: string): number => text.findIndex((l) => l.trimStart().startsWith(start)) + 1;
    const found = load(xp).diagnostics.filter((d) => d.code === 'CFG_WINDOWS_OWNER' || d.code === 'CFG_SCRIPT_WINDOWS');
    assert.deepEqual(found.map((d) => [d.code, d.line]), [['CFG_WINDOWS_OWNER', lineOf('owner = vv')], ['CFG_SCRIPT_WINDOWS', lineOf('source = announce.ps1')]], show(found));
  });

  it('[router] and [database] are not written for Windows, whatever validation let through', () => {
    const spec = specOf(LAB);
    const routed = { ...spec, provision: { ...spec.provision, services: { ...spec.provision.services, router: { forward: ['eth0', 'eth1'], nat: 'eth0' } } } };
    assert.throws(() => windowsConfigBat(routed), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_UNSUPPORTED' && /\[router\]/.test(e.message));
  });

  it('[kits] on a Linux guest is an error at its key', () => {
    const text = `[hardware]\n    os = debian12-64\n[config]\n    root_passwd = x\n[devel]\n    vim = 1\n[kits]\n    [[vim]]\n        args = /S\n`;
    assert.deepEqual(load(text).diagnostics.filter((d) => d.code === 'CFG_KITS_LINUX').map((d) => d.line), [8]);
  });
});
