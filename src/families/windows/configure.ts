import type { ResolvedNic, ResolvedPort, ResolvedSpec, ResolvedUser } from '../../config/resolve.js';
import { checkWindowsComputerName, parseMac } from '../../config/validators.js';
import { VmgenError } from '../../errors.js';
import type { Configurator, GuestContext, GuestFile, GuestPlan } from '../types.js';
import { SELF_DELETE, batchFile, batchQuote } from './batch.js';
import { type WindowsRelease, adapterName, windowsRelease } from './releases.js';
import { fileCopyLines, firstLogonRegistration, inlineProvisionFiles } from './provision.js';
import { SERVICES_PS1, WINDOWS_SERVICES, renderServicesPs1 } from './services.js';

/*
 * The Windows configurator (the seed's ConfigWindows, Listing 4.7, modernized): one config.bat that
 * renames the computer, sets the Administrator password, makes groups, users and memberships,
 * addresses every adapter and opens the firewall. Nothing runs at build time: the guest runs the
 * script itself at its first logon, so the plan is files only.
 *
 * Paths in the plan are relative to the root of the system volume (C:\), written with '/'.
 */

/** Where vmgen's scripts and kits live in the guest: C:\vmgen. */
export const WINDOWS_DIR = '/vmgen';
export const WINDOWS_DIR_CMD = 'C:\\vmgen';
export const CONFIG_BAT = 'config.bat';
export const SETUP_BAT = 'setup.bat';

// A port range becomes one `netsh firewall` line per port on XP, which has no ranges; past this
// many, the script would be unreadable and the firewall list unusable.
export const XP_MAX_RANGE = 64;

export function windowsConfigBat(spec: ResolvedSpec): string {
  const release = windowsRelease(spec.os);
  return batchFile([
    '@echo off',
    'rem vmgen: configures this machine once (seed Listing 4.7).',
    'rem This file holds account passwords in clear text: it deletes itself when it has run.',
    'setlocal DisableDelayedExpansion',
    '',
    ...renameLines(spec, release),
    ...administratorLines(spec, release),
    '',
    ...spec.groups.map((g) => `net localgroup ${batchQuote(g, `group ${g}`)} /add`),
    ...spec.users.flatMap((u) => userLines(u)),
    '',
    ...spec.nics.flatMap((nic) => nicLines(nic, release)),
    '',
    ...spec.openPorts.flatMap((p) => portLines(p, release)),
    ...spec.rawRules.map((rule, i) => rawRuleLine(rule, i)),
    '',
    ...paragraph([...fileCopyLines(spec, release), ...servicesLines(spec), ...firstLogonRegistration(spec, WINDOWS_DIR_CMD)]),
    SELF_DELETE,
  ]);
}

const paragraph = (lines: string[]): string[] => (lines.length === 0 ? [] : [...lines, '']);

/** After the adapters have their addresses (DHCP binds to them) and [files] are in place (IIS serves them). */
function servicesLines(spec: ResolvedSpec): string[] {
  // Validation refuses these for Windows; the script would silently lack them.
  const unsupported = (['router', 'database'] as const).filter((k) => spec.provision.services[k] !== undefined);
  if (unsupported.length > 0) {
    throw new VmgenError('VMG_UNSUPPORTED', `Windows guests do not take [${unsupported.join('], [')}]`, { hint: `vmgen configures ${WINDOWS_SERVICES.map((k) => `[${k}]`).join(', ')} on Windows Server` });
  }
  if (renderServicesPs1(spec) === undefined) return [];
  return [
    `powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "%~dp0${SERVICES_PS1}"`,
    `if errorlevel 1 echo vmgen: ${SERVICES_PS1} ended with exit code %errorlevel%`,
  ];
}

/** Everything config.bat reads beside itself that the config alone makes (sources are added by the build). */
export function windowsConfigFiles(spec: ResolvedSpec): GuestFile[] {
  const services = renderServicesPs1(spec);
  return [
    ...(services === undefined ? [] : [{ path: `${WINDOWS_DIR}/${SERVICES_PS1}`, content: services }]),
    ...inlineProvisionFiles(spec),
  ];
}

function renameLines(spec: ResolvedSpec, release: WindowsRelease): string[] {
  const checked = checkWindowsComputerName(spec.hostname);
  if (!checked.ok) throw new VmgenError('VMG_WINDOWS_SCRIPT', checked.message, checked.hint === undefined ? {} : { hint: checked.hint });
  const name = batchQuote(spec.hostname, 'the computer name');
  if (release.rename === 'wmic') return [`wmic computersystem where name="%COMPUTERNAME%" call rename ${name}`];
  // A NetBIOS name holds no quote of either kind, so the single-quoted PowerShell string is safe.
  return [`powershell -NoProfile -NonInteractive -Command "Rename-Computer -NewName '${spec.hostname}' -Force"`];
}

function administratorLines(spec: ResolvedSpec, release: WindowsRelease): string[] {
  const pw = spec.rootPassword;
  if (pw === undefined) return [];
  if ('hash' in pw) {
    throw new VmgenError('VMG_WINDOWS_SCRIPT', 'config.root_password_hash is a crypt(3) hash, which Windows cannot use', { hint: 'set config.root_passwd for a Windows guest' });
  }
  return [
    `net user Administrator ${passwordArg(pw.plain, 'the Administrator password')} ${NET_YES}`,
    ...(release.activateAdministrator ? ['net user Administrator /active:yes'] : []),
  ];
}

function userLines(user: ResolvedUser): string[] {
  const name = batchQuote(user.name, `user name ${user.name}`);
  // Resolve fills a Linux home for users without one; only a Windows path is the user's choice.
  const home = /^[A-Za-z]:\\/.test(user.home) ? ` /homedir:${batchQuote(user.home, `home_dir of ${user.name}`)}` : '';
  let add: string;
  if (user.password === undefined) {
    // No password: disabled, as a Linux account without one is locked.
    add = `net user ${name} /add /active:no${home}`;
  } else if ('hash' in user.password) {
    throw new VmgenError('VMG_WINDOWS_SCRIPT', `user ${user.name}: password_hash is a crypt(3) hash, which Windows cannot use`, { hint: 'set passwd for a Windows guest' });
  } else {
    const pw = passwordArg(user.password.plain, `the password of ${user.name}`);
    // Windows Setup may have made the account already (autounattend's LocalAccounts): then only
    // its password is set.
    add = `net user ${name} ${pw} /add${home} ${NET_YES} || net user ${name} ${pw} ${NET_YES}`;
  }
  return [add, ...user.groups.map((g) => `net localgroup ${batchQuote(g, `group ${g}`)} ${name} /add`)];
}

/*
 * For a password longer than 14 characters, net user asks "Do you want to continue this operation?
 * (Y/N)" (pre-Windows 2000 clients cannot use it) and waits for an answer no one gives at first
 * logon. /Y (undocumented in net help, long known) answers yes to any net prompt and is accepted by
 * commands that never prompt, so it goes on every line that sets a password, not on long ones only.
 */
const NET_YES = '/Y';

function passwordArg(password: string, what: string): string {
  // net reads "*" as "prompt for it" and a leading "/" as one of its own switches.
  if (password === '*' || password.startsWith('/')) {
    throw new VmgenError('VMG_WINDOWS_SCRIPT', `${what} cannot be given to "net user": it is "*" or starts with "/"`);
  }
  return batchQuote(password, what);
}

function nicLines(nic: ResolvedNic, release: WindowsRelease): string[] {
  if (nic.mac === undefined) {
    // Without a MAC nothing identifies the adapter at run time: Windows' default name for the
    // index is right as long as nobody renamed the adapters and they were found in slot order.
    return netshLines(nic, release, batchQuote(adapterName(release, nic.index), `adapter name of ${nic.name}`));
  }
  const mac = windowsMac(nic.mac, nic.name);
  const label = /^[A-Za-z0-9_.-]{1,32}$/.test(nic.name) ? nic.name : `adapter ${nic.index + 1}`;
  return [
    `rem ${label}: the adapter with MAC address ${mac}, whatever Windows named it.`,
    'set "VMGEN_NIC="',
    'set "VMGEN_NIC_DUP="',
    adapterLookupLine(mac, release),
    // Two adapters with that MAC: configuring either could be the wrong one.
    'if defined VMGEN_NIC_DUP set "VMGEN_NIC="',
    `if not defined VMGEN_NIC echo vmgen: ${label} is not configured: no single network adapter has the MAC address ${mac}`,
    // !VMGEN_NIC! is expanded after cmd has parsed the line, so no adapter name, whatever it holds,
    // can change what the line does; the netsh lines hold nothing else for delayed expansion to touch.
    'setlocal EnableDelayedExpansion',
    ...netshLines(nic, release, '"!VMGEN_NIC!"').map((line) => `if defined VMGEN_NIC ${line}`),
    'endlocal',
  ];
}

/**
 * The MAC as both lookups print it (upper case; wmic with ':', Get-NetAdapter with '-'). The
 * config validated it already; parsing it again here keeps anything but hex digits and ':' out of
 * the script whatever built the spec.
 */
function windowsMac(mac: string, nicName: string): string {
  const parsed = parseMac(mac);
  if (!parsed.ok) throw new VmgenError('VMG_WINDOWS_SCRIPT', `hw_addr of ${nicName}: ${parsed.message}`);
  return parsed.value.toUpperCase();
}

/**
 * One line that sets VMGEN_NIC to the connection name of the adapter with `mac`, and VMGEN_NIC_DUP
 * when a second one has it too. A line of ours never holds a FOR variable's value when cmd parses
 * it, so a connection name cannot inject anything here either.
 */
function adapterLookupLine(mac: string, release: WindowsRelease): string {
  const keep = 'if defined VMGEN_NIC (set "VMGEN_NIC_DUP=1") else set';
  if (release.adapterLookup === 'powershell') {
    const ps = `Get-NetAdapter | Where-Object MacAddress -eq '${mac.replaceAll(':', '-')}' | ForEach-Object Name`;
    return `for /f "delims=" %%a in ('powershell -NoProfile -NonInteractive -Command "${ps}" 2^>nul ^<nul') do ${keep} "VMGEN_NIC=%%a"`;
  }
  // wmic writes UTF-16, which reaches for /f as lines ending in CR CR LF: the value keeps a CR
  // that the inner for /f over it strips. Only NetConnectionID= lines count (XP's first run of
  // wmic prints an install notice), and IS NOT NULL drops the hidden miniports that share the
  // MAC (XP's Packet Scheduler). <nul: wmic can wait for input when started without a console.
  const wql = `MACAddress='${mac}' and NetConnectionID is not null`;
  return `for /f "tokens=1,* delims==" %%a in ('wmic nic where "${wql}" get NetConnectionID /value 2^>nul ^<nul')`
    + ` do if /i "%%a"=="NetConnectionID" for /f "delims=" %%c in ("%%b") do ${keep} "VMGEN_NIC=%%c"`;
}

/** The netsh lines that address one adapter; `name` is the quoted adapter name as cmd sees it. */
function netshLines(nic: ResolvedNic, release: WindowsRelease, name: string): string[] {
  const xp = release.netsh === 'xp';
  const ctx = xp ? 'netsh interface ip' : 'netsh interface ipv4';
  const addr = xp ? 'addr' : 'address';
  const dnsCmd = xp ? 'dns' : 'dnsservers';
  if (nic.mode === 'dhcp' || nic.address === undefined || nic.netmask === undefined) {
    return [`${ctx} set address name=${name} source=dhcp`, `${ctx} set ${dnsCmd} name=${name} source=dhcp`];
  }
  const gateway = nic.gateway === undefined ? '' : ` gateway=${nic.gateway} gwmetric=1`;
  return [
    `${ctx} set address name=${name} source=static ${addr}=${nic.address} mask=${nic.netmask}${gateway}`,
    ...nic.dns.map((server, i) => (i === 0
      ? `${ctx} set ${dnsCmd} name=${name} source=static ${addr}=${server} register=primary`
      : `${ctx} add ${dnsCmd} name=${name} ${addr}=${server} index=${i + 1}`)),
  ];
}

function portLines(port: ResolvedPort, release: WindowsRelease): string[] {
  const label = port.description ?? `vmgen-${port.proto}-${port.from === port.to ? port.from : `${port.from}-${port.to}`}`;
  const name = batchQuote(label, `the description of port ${port.from}`);
  if (release.firewall === 'netsh-firewall') {
    const count = port.to - port.from + 1;
    if (count > XP_MAX_RANGE) {
      throw new VmgenError('VMG_WINDOWS_SCRIPT', `ports ${port.from}-${port.to}: Windows XP's firewall opens single ports only, and ${count} lines is more than vmgen writes (${XP_MAX_RANGE})`);
    }
    const proto = port.proto.toUpperCase();
    return Array.from({ length: count }, (_, i) => `netsh firewall add portopening protocol=${proto} port=${port.from + i} name=${name}`);
  }
  // advfirewall takes a local port only with TCP or UDP, so "all" is a rule for each.
  const protos = port.proto === 'all' ? ['TCP', 'UDP'] : [port.proto.toUpperCase()];
  const ports = port.from === port.to ? `${port.from}` : `${port.from}-${port.to}`;
  return protos.map((p) => `netsh advfirewall firewall add rule name=${name} dir=in action=allow protocol=${p} localport=${ports}`);
}

/**
 * A raw rule is a netsh command written by the config's author. It goes into the script verbatim,
 * so it must be netsh and nothing cmd.exe would read as another command, redirection or variable.
 */
export function rawRuleLine(rule: string, index: number): string {
  const problem = windowsRawRuleProblem(rule, index);
  if (problem !== undefined) throw new VmgenError('VMG_WINDOWS_SCRIPT', problem.message, problem.hint === undefined ? {} : { hint: problem.hint });
  return rule.trim();
}

/** Why rawRuleLine would refuse a rule, or undefined; validation reports it at the rule's line. */
export function windowsRawRuleProblem(rule: string, index: number): { message: string; hint?: string } | undefined {
  const text = rule.trim();
  const what = `firewall-rules item ${index + 1}`;
  if (!/^netsh\s/i.test(text)) {
    return { message: `${what}: a Windows raw rule is a netsh command: ${JSON.stringify(rule)}`, hint: 'write it like: netsh advfirewall firewall add rule name="web" dir=in action=allow protocol=TCP localport=8080' };
  }
  const bad = /[&|<>^%!`\u0000-\u001f\u007f]/.exec(text);
  if (bad !== null) return { message: `${what}: ${JSON.stringify(bad[0])} would be read by cmd.exe, not netsh: ${JSON.stringify(rule)}` };
  if ((text.match(/"/g)?.length ?? 0) % 2 !== 0) return { message: `${what}: unbalanced double quotes: ${JSON.stringify(rule)}` };
  return undefined;
}

export function windowsPlan({ spec }: GuestContext): GuestPlan {
  // Who runs it differs by method: the base-disk executor's Startup-folder runner, or
  // autounattend.xml's first-logon commands.
  const files: GuestFile[] = [{ path: `${WINDOWS_DIR}/${CONFIG_BAT}`, content: windowsConfigBat(spec) }, ...windowsConfigFiles(spec)];
  return { files, links: [], commands: [] };
}

export const windowsConfigurator: Configurator = {
  id: 'windows',
  // Windows has no package manager to ask; kits are the installer's business.
  packages: () => [],
  services: () => [],
  plan: windowsPlan,
};
