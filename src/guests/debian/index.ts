import type { ResolvedNic, ResolvedSpec, ResolvedUser } from '../../config/resolve.js';
import { checkGuestAbsolutePath, checkPosixName, ipInSubnet, parseIPv4, quote } from '../../config/validators.js';
import { renderNftablesRuleset } from '../firewall/nftables.js';
import type { Configurator, GuestCommand, GuestContext, GuestFile, GuestLink, GuestPlan } from '../types.js';
import {
  ROUTES_UNIT,
  type Route,
  assertTimezone,
  isBuiltinLocale,
  renderAptSources,
  renderAuthorizedKeys,
  renderChpasswdInput,
  renderDefaultLocale,
  renderHostname,
  renderHosts,
  renderKeyboard,
  renderLocaleGen,
  renderNetworkdNetwork,
  renderResolvConf,
  renderRoutesUnit,
  renderTimezone,
} from './render.js';

/*
 * The Debian-family configurator (Debian 12/13, Ubuntu 22.04+): what to write into the guest and
 * which commands to run there, computed from the spec alone. Applying the plan is someone else's
 * job; nothing here touches a disk or starts a process.
 */

/** What every guest needs for the plan itself: an init to enable units with, the firewall, `ip`, and sudo for the sudo group. */
const BASE_PACKAGES = ['iproute2', 'nftables', 'sudo', 'systemd-sysv'];

/**
 * Where authorized_keys files wait until their owners exist. They cannot be written into the home
 * directly: plan files are written before commands run, and `useradd -m` neither copies /etc/skel
 * into nor chowns a home that already exists, so the user would get a root-owned, empty home.
 */
export const STAGED_KEYS_DIR = '/var/lib/vmgen-authorized-keys';

export function debianPackages({ spec }: GuestContext): string[] {
  const wanted = [
    ...BASE_PACKAGES,
    ...(spec.locale !== undefined && !isBuiltinLocale(spec.locale) ? ['locales'] : []),
    ...(spec.bashCompletion ? ['bash-completion'] : []),
    ...(spec.keyboard !== undefined ? ['keyboard-configuration'] : []),
    // Not in every minimal image (debootstrap minbase); without it /etc/localtime would dangle.
    ...(spec.timezone !== undefined ? ['tzdata'] : []),
  ];
  return [...new Set(wanted)].sort();
}

export function debianServices({ spec, nicOwner }: GuestContext): string[] {
  return [
    'nftables',
    ...(nicOwner === 'guest' && spec.nics.length > 0 ? ['systemd-networkd'] : []),
    ...(nicOwner === 'target' && spec.routes.length > 0 ? [ROUTES_UNIT] : []),
  ];
}

export function debianPlan(ctx: GuestContext): GuestPlan {
  const { spec } = ctx;
  return {
    files: [
      ...identityFiles(spec),
      ...networkFiles(ctx),
      { path: '/etc/nftables.conf', content: renderNftablesRuleset(spec), mode: 0o755 },
      ...(spec.repos.length > 0 ? [{ path: '/etc/apt/sources.list.d/vmgen.list', content: renderAptSources(spec.repos) }] : []),
      ...regionalFiles(spec),
      ...stagedKeyFiles(spec),
    ],
    links: timezoneLinks(spec),
    commands: [
      ...spec.groups.map((g): GuestCommand => ({ argv: ['groupadd', posixName(g, 'group')], why: `create group ${g}` })),
      ...spec.users.map((u) => useraddCommand(u, spec.groups)),
      ...passwordCommands(spec),
      ...keyCommands(spec),
      ...hostKeyCommands(spec),
      enableCommand(ctx),
    ],
  };
}

/**
 * Generating a locale takes seconds (localedef), and depends only on the locale, so it is done once
 * in the packages layer, whose key includes it, instead of in every build.
 */
export function debianLayerPlan({ spec }: GuestContext): { key: unknown; plan: GuestPlan } | undefined {
  if (spec.locale === undefined || isBuiltinLocale(spec.locale)) return undefined;
  return {
    key: { locales: [spec.locale] },
    plan: { files: [{ path: '/etc/locale.gen', content: renderLocaleGen(spec.locale) }], links: [], commands: localeCommands(spec) },
  };
}

export const debianConfigurator: Configurator = {
  id: 'debian',
  packages: debianPackages,
  services: debianServices,
  plan: debianPlan,
  layerPlan: debianLayerPlan,
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
 * A guest that owns its NICs gets one networkd file each. When the target owns them, it already
 * set addresses and the gateway, so only the routes are left, and a oneshot unit adds those.
 */
function networkFiles({ spec, nicOwner }: GuestContext): GuestFile[] {
  if (nicOwner === 'target') {
    return spec.routes.length === 0 ? [] : [{ path: `/etc/systemd/system/${ROUTES_UNIT}.service`, content: renderRoutesUnit(spec.routes) }];
  }
  const gatewayNic = spec.gateway === undefined ? undefined : nicForNextHop(spec.nics, spec.gateway, 'the default gateway');
  const routes = spec.routes.map((route) => ({ route, nic: nicForRoute(spec.nics, route) }));
  return spec.nics.map((nic) => {
    const gateway = nic.gateway ?? (nic === gatewayNic ? spec.gateway : undefined);
    const own = routes.filter((r) => r.nic === nic).map((r) => r.route);
    const content = renderNetworkdNetwork(nic, { ...(gateway === undefined ? {} : { gateway }), routes: own });
    return { path: `/etc/systemd/network/10-${nic.name}.network`, content };
  });
}

function nicForRoute(nics: readonly ResolvedNic[], route: Route): ResolvedNic {
  if (route.dev === undefined) return nicForNextHop(nics, route.via, `the route to ${route.to}`);
  const nic = nics.find((n) => n.name === route.dev);
  if (nic === undefined) throw new Error(`the route to ${route.to} names device ${quote(route.dev)}, which is not one of the NICs`);
  return nic;
}

/**
 * The NIC a next hop is reached through: the static one whose subnet holds it, else the first DHCP
 * NIC, whose subnet is only known at run time (validation warns about that case, not errs).
 */
function nicForNextHop(nics: readonly ResolvedNic[], hop: string, what: string): ResolvedNic {
  const ip = parseIPv4(hop);
  if (!ip.ok) throw new Error(`${what}: ${ip.message}`);
  const onLink = nics.find((n) => n.mode === 'static' && inSubnetOf(n, ip.value)) ?? nics.find((n) => n.mode === 'dhcp');
  if (onLink === undefined) throw new Error(`${what}: next hop ${hop} is in no static NIC's subnet and there is no DHCP NIC to reach it`);
  return onLink;
}

function inSubnetOf(nic: ResolvedNic, ip: number): boolean {
  if (nic.address === undefined || nic.prefix === undefined) return false;
  const own = parseIPv4(nic.address);
  return own.ok && ipInSubnet(ip, own.value, nic.prefix);
}

function regionalFiles(spec: ResolvedSpec): GuestFile[] {
  const files: GuestFile[] = [];
  if (spec.timezone !== undefined) files.push({ path: '/etc/timezone', content: renderTimezone(spec.timezone) });
  if (spec.locale !== undefined) {
    files.push({ path: '/etc/default/locale', content: renderDefaultLocale(spec.locale) });
  }
  if (spec.keyboard !== undefined) files.push({ path: '/etc/default/keyboard', content: renderKeyboard(spec.keyboard) });
  return files;
}

function timezoneLinks(spec: ResolvedSpec): GuestLink[] {
  if (spec.timezone === undefined) return [];
  return [{ path: '/etc/localtime', target: `/usr/share/zoneinfo/${assertTimezone(spec.timezone)}` }];
}

function stagedKeyFiles(spec: ResolvedSpec): GuestFile[] {
  return usersWithKeys(spec).map((u) => ({ path: stagedKeyPath(u), content: renderAuthorizedKeys(u.sshKeys), mode: 0o600 }));
}

// ---------------------------------------------------------------------------------------------
// Commands

/** A user whose name is also a listed group joins that group as its primary one: `-U` would fail on it. */
function useraddCommand(user: ResolvedUser, groups: readonly string[]): GuestCommand {
  const name = posixName(user.name, 'user');
  const primary = groups.includes(name) ? ['-g', name] : ['-U'];
  const extra = user.groups.length > 0 ? ['-G', user.groups.map((g) => posixName(g, 'group')).join(',')] : [];
  const argv = ['useradd', '-m', ...primary, '-s', guestPath(user.shell, 'shell'), '-d', guestPath(user.home, 'home'), ...extra, name];
  return { argv, why: `create user ${name}` };
}

/**
 * Plain passwords go through chpasswd without -c, so PAM's pam_unix hashes them as the release
 * is set up to: yescrypt on Debian 12+ and Ubuntu 22.04+. `-c YESCRYPT` would say the same where
 * it works, but Ubuntu 22.04's chpasswd (shadow 4.8) predates that option. Root is only touched
 * when the config sets its password; Debian leaves it locked otherwise.
 */
function passwordCommands(spec: ResolvedSpec): GuestCommand[] {
  const accounts = [
    ...(spec.rootPassword === undefined ? [] : [{ name: 'root', password: spec.rootPassword }]),
    ...spec.users.flatMap((u) => (u.password === undefined ? [] : [{ name: u.name, password: u.password }])),
  ];
  const plain = accounts.flatMap((a) => ('plain' in a.password ? [{ name: a.name, secret: a.password.plain, hashed: false }] : []));
  const hashed = accounts.flatMap((a) => ('hash' in a.password ? [{ name: a.name, secret: a.password.hash, hashed: true }] : []));
  const commands: GuestCommand[] = [];
  if (plain.length > 0) {
    commands.push({ argv: ['chpasswd'], input: renderChpasswdInput(plain), secret: true, why: `set the password of ${names(plain)}` });
  }
  if (hashed.length > 0) {
    commands.push({ argv: ['chpasswd', '-e'], input: renderChpasswdInput(hashed), secret: true, why: `set the password hash of ${names(hashed)}` });
  }
  return commands;
}

/** `install` creates and fills ~/.ssh with the owner and mode sshd's StrictModes insists on, in one step each. */
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

function localeCommands(spec: ResolvedSpec): GuestCommand[] {
  if (spec.locale === undefined || isBuiltinLocale(spec.locale)) return [];
  // Debian's and Ubuntu's locale-gen both build what /etc/locale.gen lists; Debian's ignores arguments.
  return [{ argv: ['locale-gen'], why: `generate the ${spec.locale} locale` }];
}

/**
 * openssh-server makes its host keys when it is installed, which happens once in the cached layer:
 * left alone, every machine built from that layer would share them. Each build makes its own.
 */
function hostKeyCommands(spec: ResolvedSpec): GuestCommand[] {
  if (!spec.appPackages.includes('openssh-server')) return [];
  return [
    { argv: ['find', '/etc/ssh', '-maxdepth', '1', '-name', 'ssh_host_*', '-delete'], why: 'drop the SSH host keys shared by every build of the cached layer' },
    // One by one rather than `ssh-keygen -A`, whose key comments would name the build host.
    ...(['rsa', 'ecdsa', 'ed25519'] as const).map((type): GuestCommand => ({
      argv: ['ssh-keygen', '-q', '-t', type, '-N', '', '-C', `root@${spec.hostname}`, '-f', `/etc/ssh/ssh_host_${type}_key`],
      why: `make this machine's own SSH ${type} host key`,
    })),
  ];
}

const UNIT = /^[A-Za-z0-9][A-Za-z0-9@._:-]*$/;

function enableCommand(ctx: GuestContext): GuestCommand {
  const units = [...new Set([...debianServices(ctx), ...ctx.spec.appServices])];
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

/** ':' is refused too: home and shell are fields of /etc/passwd. */
function guestPath(path: string, what: string): string {
  const r = checkGuestAbsolutePath(path);
  if (!r.ok) throw new Error(`${what}: ${r.message}`);
  if (path.includes(':')) throw new Error(`${what} ${quote(path)} contains ':', the /etc/passwd field separator`);
  return path;
}

function names(entries: ReadonlyArray<{ name: string }>): string {
  return entries.map((e) => e.name).join(', ');
}
