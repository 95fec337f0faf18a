import type { ResolvedNic, ResolvedPort, ResolvedSpec, ResolvedUser } from '../../config/resolve.js';
import { checkWindowsComputerName } from '../../config/validators.js';
import { VmgenError } from '../../errors.js';
import type { Configurator, GuestContext, GuestFile, GuestPlan } from '../types.js';
import { SELF_DELETE, batchFile, batchQuote } from './batch.js';
import { type WindowsRelease, adapterName, windowsRelease } from './releases.js';

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
const XP_MAX_RANGE = 64;

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
    SELF_DELETE,
  ]);
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
    `net user Administrator ${passwordArg(pw.plain, 'the Administrator password')}`,
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
    add = `net user ${name} ${pw} /add${home} || net user ${name} ${pw}`;
  }
  return [add, ...user.groups.map((g) => `net localgroup ${batchQuote(g, `group ${g}`)} ${name} /add`)];
}

function passwordArg(password: string, what: string): string {
  // net reads "*" as "prompt for it" and a leading "/" as one of its own switches.
  if (password === '*' || password.startsWith('/')) {
    throw new VmgenError('VMG_WINDOWS_SCRIPT', `${what} cannot be given to "net user": it is "*" or starts with "/"`);
  }
  return batchQuote(password, what);
}

function nicLines(nic: ResolvedNic, release: WindowsRelease): string[] {
  const name = batchQuote(adapterName(release, nic.index), `adapter name of ${nic.name}`);
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
  const text = rule.trim();
  const what = `firewall-rules item ${index + 1}`;
  if (!/^netsh\s/i.test(text)) {
    throw new VmgenError('VMG_WINDOWS_SCRIPT', `${what}: a Windows raw rule is a netsh command: ${JSON.stringify(rule)}`, { hint: 'write it like: netsh advfirewall firewall add rule name="web" dir=in action=allow protocol=TCP localport=8080' });
  }
  const bad = /[&|<>^%!`\u0000-\u001f\u007f]/.exec(text);
  if (bad !== null) {
    throw new VmgenError('VMG_WINDOWS_SCRIPT', `${what}: ${JSON.stringify(bad[0])} would be read by cmd.exe, not netsh: ${JSON.stringify(rule)}`);
  }
  if ((text.match(/"/g)?.length ?? 0) % 2 !== 0) {
    throw new VmgenError('VMG_WINDOWS_SCRIPT', `${what}: unbalanced double quotes: ${JSON.stringify(rule)}`);
  }
  return text;
}

export function windowsPlan({ spec }: GuestContext): GuestPlan {
  // Who runs it differs by method: the base-disk executor's Startup-folder runner, or
  // autounattend.xml's first-logon commands.
  const files: GuestFile[] = [{ path: `${WINDOWS_DIR}/${CONFIG_BAT}`, content: windowsConfigBat(spec) }];
  return { files, links: [], commands: [] };
}

export const windowsConfigurator: Configurator = {
  id: 'windows',
  // Windows has no package manager to ask; kits are the installer's business.
  packages: () => [],
  services: () => [],
  plan: windowsPlan,
};
