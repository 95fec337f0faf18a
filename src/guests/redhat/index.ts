import type { ResolvedNic, ResolvedSpec, ResolvedUser } from '../../config/resolve.js';
import { checkGuestAbsolutePath, checkPosixName, ipInSubnet, parseIPv4, quote } from '../../config/validators.js';
import { VmgenError } from '../../errors.js';
import {
  ROUTES_UNIT,
  type Route,
  assertTimezone,
  isBuiltinLocale,
  renderAuthorizedKeys,
  renderChpasswdInput,
  renderHostname,
  renderResolvConf,
  renderRoutesUnit,
} from '../debian/render.js';
import type { Configurator, GuestCommand, GuestContext, GuestFile, GuestLink, GuestPlan } from '../types.js';
import {
  RAW_RULES_FILE,
  RAW_RULES_UNIT,
  ZONE,
  langpackFor,
  renderFirewalldConf,
  renderHosts,
  renderKeyfile,
  renderLocaleConf,
  renderNmConf,
  renderRawRules,
  renderRawRulesUnit,
  renderSudoersGroup,
  renderVconsoleConf,
  renderZone,
} from './render.js';

/*
 * The RedHat-family configurator (Fedora, Rocky, Alma): the seed's ConfigRedHat, with today's
 * tools. NICs through NetworkManager keyfiles, the firewall through a firewalld zone, accounts
 * with shadow-utils run inside the root as on Debian. Pure: nothing here touches a disk.
 */

/** What the plan itself needs in the guest, by Fedora/EL package name. */
const BASE_PACKAGES = ['NetworkManager', 'firewalld', 'iproute', 'shadow-utils', 'sudo', 'systemd'];

/** Where authorized_keys files wait until their owners exist (see the Debian configurator for why). */
export const STAGED_KEYS_DIR = '/var/lib/vmgen-authorized-keys';

export const NM_CONF = '/etc/NetworkManager/conf.d/90-vmgen.conf';
export const CONNECTIONS_DIR = '/etc/NetworkManager/system-connections';
export const ZONE_FILE = `/etc/firewalld/zones/${ZONE}.xml`;
export const FIREWALLD_CONF = '/etc/firewalld/firewalld.conf';
export const SUDO_GROUP_FILE = '/etc/sudoers.d/vmgen-sudo';

/**
 * Configs name `sudo` for administrators, as Debian and Ubuntu call the group; Fedora and EL call
 * it wheel and have no sudo group, so useradd -G sudo would fail. vmgen makes the group and gives
 * it wheel's rights, so the same config means the same on every Linux guest.
 */
const SUDO_GROUP = 'sudo';

function needsSudoGroup(spec: ResolvedSpec): boolean {
  return !spec.groups.includes(SUDO_GROUP) && spec.users.some((u) => u.groups.includes(SUDO_GROUP));
}

export function redhatPackages({ spec }: GuestContext): string[] {
  const langpack = spec.locale === undefined || isBuiltinLocale(spec.locale) ? undefined : langpackFor(spec.locale);
  const wanted = [
    ...BASE_PACKAGES,
    ...(spec.rawRules.length > 0 ? ['nftables'] : []),
    ...(langpack === undefined ? [] : [langpack]),
    ...(spec.bashCompletion ? ['bash-completion'] : []),
    ...(spec.keyboard !== undefined ? ['kbd'] : []),
    ...(spec.timezone !== undefined ? ['tzdata'] : []),
  ];
  return [...new Set(wanted)].sort();
}

/** NetworkManager runs either way: when the target owns the NICs it is told to leave them alone. */
export function redhatServices({ spec, nicOwner }: GuestContext): string[] {
  return [
    'firewalld',
    'NetworkManager',
    ...(spec.rawRules.length > 0 ? [RAW_RULES_UNIT] : []),
    ...(nicOwner === 'target' && spec.routes.length > 0 ? [ROUTES_UNIT] : []),
  ];
}

export function redhatPlan(ctx: GuestContext): GuestPlan {
  const { spec } = ctx;
  if (spec.repos.length > 0) {
    throw new VmgenError('VMG_UNSUPPORTED', 'extra repositories ([config] repos) are apt source lines; RedHat-family guests cannot use them yet', {
      hint: 'remove [config] repos, or point `mirror` at a repository that has every package',
    });
  }
  return {
    files: [
      ...identityFiles(spec),
      ...networkFiles(ctx),
      { path: ZONE_FILE, content: renderZone(spec.openPorts) },
      { path: FIREWALLD_CONF, content: renderFirewalldConf() },
      ...(spec.rawRules.length > 0
        ? [{ path: RAW_RULES_FILE, content: renderRawRules(spec.rawRules) }, { path: `/etc/systemd/system/${RAW_RULES_UNIT}.service`, content: renderRawRulesUnit() }]
        : []),
      ...regionalFiles(spec),
      ...(needsSudoGroup(spec) ? [{ path: SUDO_GROUP_FILE, content: renderSudoersGroup(SUDO_GROUP), mode: 0o440 }] : []),
      ...usersWithKeys(spec).map((u): GuestFile => ({ path: stagedKeyPath(u), content: renderAuthorizedKeys(u.sshKeys), mode: 0o600 })),
    ],
    links: timezoneLinks(spec),
    commands: [
      ...(needsSudoGroup(spec) ? [{ argv: ['groupadd', '-f', SUDO_GROUP], why: 'make sure the sudo group exists (Fedora and EL call theirs wheel)' }] : []),
      ...spec.groups.map((g): GuestCommand => ({ argv: ['groupadd', posixName(g, 'group')], why: `create group ${g}` })),
      ...spec.users.map((u) => useraddCommand(u, spec.groups)),
      ...passwordCommands(spec),
      ...keyCommands(spec),
      ...hostKeyCommands(spec),
      enableCommand(ctx),
    ],
  };
}

export const redhatConfigurator: Configurator = {
  id: 'redhat',
  packages: redhatPackages,
  services: redhatServices,
  plan: redhatPlan,
};

// ---------------------------------------------------------------------------------------------
// Files

function identityFiles(spec: ResolvedSpec): GuestFile[] {
  const staticAddress = spec.nics.find((n) => n.mode === 'static' && n.address !== undefined)?.address;
  return [
    { path: '/etc/hostname', content: renderHostname(spec.hostname) },
    { path: '/etc/hosts', content: renderHosts(spec.hostname, staticAddress) },
    ...(spec.dns.length > 0 ? [{ path: '/etc/resolv.conf', content: renderResolvConf(spec.dns) }] : []),
  ];
}

/**
 * A guest that owns its NICs gets one keyfile each, mode 0600 (NetworkManager ignores keyfiles
 * others can read). When the target owns them, NetworkManager is told to leave them unmanaged and
 * a oneshot unit adds the routes, as on Debian.
 */
function networkFiles({ spec, nicOwner }: GuestContext): GuestFile[] {
  const conf = renderNmConf({ unmanaged: nicOwner === 'target' ? spec.nics.map((n) => n.name) : [], ownResolvConf: spec.dns.length > 0 });
  const confFile: GuestFile[] = conf === undefined ? [] : [{ path: NM_CONF, content: conf }];
  if (nicOwner === 'target') {
    const routes = spec.routes.length === 0 ? [] : [{ path: `/etc/systemd/system/${ROUTES_UNIT}.service`, content: renderRoutesUnit(spec.routes) }];
    return [...confFile, ...routes];
  }
  const gatewayNic = spec.gateway === undefined ? undefined : nicForNextHop(spec.nics, spec.gateway, 'the default gateway');
  const routes = spec.routes.map((route) => ({ route, nic: nicForRoute(spec.nics, route) }));
  return [
    ...confFile,
    ...spec.nics.map((nic): GuestFile => {
      const gateway = nic.gateway ?? (nic === gatewayNic ? spec.gateway : undefined);
      const own = routes.filter((r) => r.nic === nic).map((r) => r.route);
      const content = renderKeyfile(nic, { hostname: spec.hostname, ...(gateway === undefined ? {} : { gateway }), routes: own });
      return { path: `${CONNECTIONS_DIR}/${nic.name}.nmconnection`, content, mode: 0o600 };
    }),
  ];
}

function nicForRoute(nics: readonly ResolvedNic[], route: Route): ResolvedNic {
  if (route.dev === undefined) return nicForNextHop(nics, route.via, `the route to ${route.to}`);
  const nic = nics.find((n) => n.name === route.dev);
  if (nic === undefined) throw new Error(`the route to ${route.to} names device ${quote(route.dev)}, which is not one of the NICs`);
  return nic;
}

/** The static NIC whose subnet holds the next hop, else the first DHCP NIC (as on Debian). */
function nicForNextHop(nics: readonly ResolvedNic[], hop: string, what: string): ResolvedNic {
  const ip = parseIPv4(hop);
  if (!ip.ok) throw new Error(`${what}: ${ip.message}`);
  const onLink = nics.find((n) => {
    if (n.mode !== 'static' || n.address === undefined || n.prefix === undefined) return false;
    const own = parseIPv4(n.address);
    return own.ok && ipInSubnet(ip.value, own.value, n.prefix);
  }) ?? nics.find((n) => n.mode === 'dhcp');
  if (onLink === undefined) throw new Error(`${what}: next hop ${hop} is in no static NIC's subnet and there is no DHCP NIC to reach it`);
  return onLink;
}

function regionalFiles(spec: ResolvedSpec): GuestFile[] {
  return [
    ...(spec.locale === undefined ? [] : [{ path: '/etc/locale.conf', content: renderLocaleConf(spec.locale) }]),
    ...(spec.keyboard === undefined ? [] : [{ path: '/etc/vconsole.conf', content: renderVconsoleConf(spec.keyboard) }]),
  ];
}

/** Fedora and EL read the zone from the /etc/localtime link alone; there is no /etc/timezone. */
function timezoneLinks(spec: ResolvedSpec): GuestLink[] {
  if (spec.timezone === undefined) return [];
  return [{ path: '/etc/localtime', target: `../usr/share/zoneinfo/${assertTimezone(spec.timezone)}` }];
}

// ---------------------------------------------------------------------------------------------
// Commands: shadow-utils takes the same arguments as on Debian.

function useraddCommand(user: ResolvedUser, groups: readonly string[]): GuestCommand {
  const name = posixName(user.name, 'user');
  const primary = groups.includes(name) ? ['-g', name] : ['-U'];
  const extra = user.groups.length > 0 ? ['-G', user.groups.map((g) => posixName(g, 'group')).join(',')] : [];
  return { argv: ['useradd', '-m', ...primary, '-s', guestPath(user.shell, 'shell'), '-d', guestPath(user.home, 'home'), ...extra, name], why: `create user ${name}` };
}

/** chpasswd hashes plain passwords as /etc/login.defs says (SHA-512 or yescrypt, by release). */
function passwordCommands(spec: ResolvedSpec): GuestCommand[] {
  const accounts = [
    ...(spec.rootPassword === undefined ? [] : [{ name: 'root', password: spec.rootPassword }]),
    ...spec.users.flatMap((u) => (u.password === undefined ? [] : [{ name: u.name, password: u.password }])),
  ];
  const plain = accounts.flatMap((a) => ('plain' in a.password ? [{ name: a.name, secret: a.password.plain, hashed: false }] : []));
  const hashed = accounts.flatMap((a) => ('hash' in a.password ? [{ name: a.name, secret: a.password.hash, hashed: true }] : []));
  return [
    ...(plain.length === 0 ? [] : [{ argv: ['chpasswd'], input: renderChpasswdInput(plain), secret: true, why: `set the password of ${names(plain)}` }]),
    ...(hashed.length === 0 ? [] : [{ argv: ['chpasswd', '-e'], input: renderChpasswdInput(hashed), secret: true, why: `set the password hash of ${names(hashed)}` }]),
  ];
}

function keyCommands(spec: ResolvedSpec): GuestCommand[] {
  const users = usersWithKeys(spec);
  if (users.length === 0) return [];
  return [
    ...users.flatMap((u): GuestCommand[] => {
      const ssh = `${guestPath(u.home, 'home').replace(/\/+$/, '')}/.ssh`;
      const owner = ['-o', u.name, '-g', u.name];
      return [
        { argv: ['install', '-d', '-m', '700', ...owner, ssh], why: `create ${ssh} for ${u.name}` },
        { argv: ['install', '-m', '600', ...owner, stagedKeyPath(u), `${ssh}/authorized_keys`], why: `install the SSH keys of ${u.name}` },
      ];
    }),
    { argv: ['rm', '-r', '--', STAGED_KEYS_DIR], why: 'remove the staged copies of the SSH keys' },
  ];
}

/** Host keys made when the cached layer was would be shared by every build of it; each build makes its own. */
function hostKeyCommands(spec: ResolvedSpec): GuestCommand[] {
  if (!spec.appPackages.includes('openssh-server')) return [];
  return [
    { argv: ['find', '/etc/ssh', '-maxdepth', '1', '-name', 'ssh_host_*', '-delete'], why: 'drop the SSH host keys shared by every build of the cached layer' },
    ...(['rsa', 'ecdsa', 'ed25519'] as const).map((type): GuestCommand => ({
      argv: ['ssh-keygen', '-q', '-t', type, '-N', '', '-C', `root@${spec.hostname}`, '-f', `/etc/ssh/ssh_host_${type}_key`],
      why: `make this machine's own SSH ${type} host key`,
    })),
  ];
}

const UNIT = /^[A-Za-z0-9][A-Za-z0-9@._:-]*$/;

function enableCommand(ctx: GuestContext): GuestCommand {
  const units = [...new Set([...redhatServices(ctx), ...ctx.spec.appServices])];
  for (const unit of units) if (!UNIT.test(unit)) throw new Error(`${quote(unit)} is not a systemd unit name`);
  return { argv: ['systemctl', 'enable', ...units], why: 'start the firewall, network and application services at boot' };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function usersWithKeys(spec: ResolvedSpec): ResolvedUser[] {
  return spec.users.filter((u) => u.sshKeys.length > 0);
}

function stagedKeyPath(user: ResolvedUser): string {
  return `${STAGED_KEYS_DIR}/${posixName(user.name, 'user')}`;
}

function posixName(name: string, what: 'user' | 'group'): string {
  const r = checkPosixName(name, what);
  if (!r.ok) throw new Error(r.message);
  return name;
}

function guestPath(path: string, what: string): string {
  const r = checkGuestAbsolutePath(path);
  if (!r.ok) throw new Error(`${what}: ${r.message}`);
  if (path.includes(':')) throw new Error(`${what} ${quote(path)} contains ':', the /etc/passwd field separator`);
  return path;
}

function names(entries: ReadonlyArray<{ name: string }>): string {
  return entries.map((e) => e.name).join(', ');
}
