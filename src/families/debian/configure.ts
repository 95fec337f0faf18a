import type { ResolvedSpec } from '../../config/resolve.js';
import { renderNftablesRuleset } from '../linux/nftables.js';
import { accountCommands, stagedKeyFiles } from '../linux/accounts.js';
import { withProvision } from '../linux/provision.js';
import { identityFiles } from '../linux/identity.js';
import { nicRouting } from '../linux/network.js';
import { databasePackages, databasePlan, databaseUnits } from '../linux/services/database.js';
import { joinPlans } from '../linux/services/join.js';
import { webPackages, webPlan } from '../linux/services/web.js';
import { netPlan } from '../linux/services/net-plan.js';
import { enableCommand, timezoneLinks } from '../linux/systemd.js';
import type { Configurator, GuestCommand, GuestContext, GuestFile, GuestPlan, LayerPlan, SystemdEnable } from '../types.js';
import { DEBIAN_DATABASE } from './services/database.js';
import { DEBIAN_WEB } from './services/web.js';
import {
  ROUTES_UNIT,
  isBuiltinLocale,
  renderAptSources,
  renderDefaultLocale,
  renderHosts,
  renderKeyboard,
  renderLocaleGen,
  renderNetworkdNetwork,
  renderRoutesUnit,
  renderTimezone,
} from './render.js';
import { DEBIAN_NET } from './services/net.js';

export { STAGED_KEYS_DIR } from '../linux/accounts.js';

/*
 * The Debian-family configurator (Debian 12/13, Ubuntu 22.04+): what to write into the guest and
 * which commands to run there, computed from the spec alone. Applying the plan is someone else's
 * job; nothing here touches a disk or starts a process.
 */

/** What every guest needs for the plan itself: an init to enable units with, the firewall, `ip`, and sudo for the sudo group. */
const BASE_PACKAGES = ['iproute2', 'nftables', 'sudo', 'systemd-sysv'];

/**
 * Where systemd looks for the packages' units: Debian 12 and Ubuntu 22.04 build it split-usr
 * (/lib/systemd/system first, where its enable links point, and where its package installs its
 * own units: dpkg's list of its files names that directory); systemd 255 (Debian 13, Ubuntu
 * 24.04) dropped split-usr and has /usr/lib/systemd/system alone.
 */
const DEBIAN_UNIT_DIRS: SystemdEnable['vendorDirs'] = [
  { dir: '/lib/systemd/system', when: { file: '/var/lib/dpkg/info/systemd.list', line: '/lib/systemd/system' } },
  { dir: '/usr/lib/systemd/system' },
];

export function debianPackages({ spec }: GuestContext): string[] {
  const wanted = [
    ...BASE_PACKAGES,
    ...(spec.locale !== undefined && !isBuiltinLocale(spec.locale) ? ['locales'] : []),
    ...(spec.bashCompletion ? ['bash-completion'] : []),
    ...(spec.keyboard !== undefined ? ['keyboard-configuration'] : []),
    // Not in every minimal image (debootstrap minbase); without it /etc/localtime would dangle.
    ...(spec.timezone !== undefined ? ['tzdata'] : []),
    ...webPackages(spec.provision.services.web?.sites ?? [], DEBIAN_WEB),
    ...databasePackages(spec.provision.services.database, DEBIAN_DATABASE),
    ...(dhcpResolver(spec) ? ['systemd-resolved'] : []),
  ];
  return [...new Set(wanted)].sort();
}

export function debianServices({ spec, nicOwner }: GuestContext): string[] {
  return [
    'nftables',
    ...(guestNics(spec, nicOwner).length > 0 ? ['systemd-networkd'] : []),
    ...(dhcpResolver(spec) ? ['systemd-resolved'] : []),
    ...(nicOwner === 'target' && spec.routes.length > 0 ? [ROUTES_UNIT] : []),
    ...databaseUnits(spec.provision.services.database, DEBIAN_DATABASE),
  ];
}

export function debianPlan(ctx: GuestContext): GuestPlan {
  const { spec } = ctx;
  const services = joinPlans(
    webPlan(spec.provision.services.web?.sites ?? [], DEBIAN_WEB),
    databasePlan(spec, DEBIAN_DATABASE),
    netPlan(ctx, DEBIAN_NET),
  );
  return {
    files: [
      ...identityFiles(spec, renderHosts),
      ...networkFiles(ctx),
      { path: '/etc/nftables.conf', content: renderNftablesRuleset(spec, spec.provision.services.router), mode: 0o755 },
      ...(spec.repos.length > 0 ? [{ path: '/etc/apt/sources.list.d/vmgen.list', content: renderAptSources(spec.repos) }] : []),
      ...regionalFiles(spec),
      ...stagedKeyFiles(spec),
      ...services.files,
    ],
    links: [
      ...timezoneLinks(spec, '/usr/share/zoneinfo'),
      ...(dhcpResolver(spec) ? [{ path: '/etc/resolv.conf', target: '../run/systemd/resolve/stub-resolv.conf' }] : []),
      ...services.links,
    ],
    commands: [
      ...accountCommands(spec),
      ...services.commands,
      enableCommand(debianServices(ctx), spec.appServices, DEBIAN_UNIT_DIRS),
    ],
  };
}

/**
 * Generating a locale takes seconds (localedef), and depends only on the locale, so it is done once
 * in the packages layer, whose key includes it, instead of in every build.
 */
export function debianLayerPlan({ spec }: GuestContext): LayerPlan | undefined {
  if (spec.locale === undefined || isBuiltinLocale(spec.locale)) return undefined;
  return {
    key: { locales: [spec.locale] },
    plan: { files: [{ path: '/etc/locale.gen', content: renderLocaleGen(spec.locale) }], links: [], commands: localeCommands(spec) },
    // locale-gen reads /etc/locale.gen and writes /usr/lib/locale/locale-archive alone.
    writes: ['/etc', '/usr/lib/locale'],
  };
}

export const debianConfigurator: Configurator = {
  id: 'debian',
  packages: debianPackages,
  services: debianServices,
  plan: (ctx) => withProvision(ctx, debianPlan(ctx)),
  layerPlan: debianLayerPlan,
};

// ---------------------------------------------------------------------------------------------
// Files

/**
 * The NICs the guest configures: all when it owns them; when the target does (a container), the
 * DHCP ones, as no container manager runs a DHCP client for its guest (a lab's DHCP clients).
 */
function guestNics(spec: ResolvedSpec, nicOwner: GuestContext['nicOwner']): string[] {
  return spec.nics.filter((n) => nicOwner === 'guest' || n.mode === 'dhcp').map((n) => n.name);
}

/**
 * A DHCP client with no DNS server of its own takes the lease's: networkd hands it to
 * systemd-resolved, and /etc/resolv.conf points at resolved's stub (networkd alone writes no resolv.conf).
 */
function dhcpResolver(spec: ResolvedSpec): boolean {
  return spec.dns.length === 0 && spec.nics.some((n) => n.mode === 'dhcp');
}

/**
 * A guest that owns its NICs gets one networkd file each. When the target owns them, it already
 * set addresses and the gateway, so only the routes (a oneshot unit adds those) and the DHCP NICs are left.
 */
function networkFiles({ spec, nicOwner }: GuestContext): GuestFile[] {
  const own = guestNics(spec, nicOwner);
  const routesUnit = nicOwner === 'target' && spec.routes.length > 0 ? [{ path: `/etc/systemd/system/${ROUTES_UNIT}.service`, content: renderRoutesUnit(spec.routes) }] : [];
  return [...routesUnit, ...nicRouting(spec).filter(({ nic }) => own.includes(nic.name)).map(({ nic, gateway, routes }) => {
    const content = renderNetworkdNetwork(nic, { ...(gateway === undefined ? {} : { gateway }), routes });
    return { path: `/etc/systemd/network/10-${nic.name}.network`, content };
  })];
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

// ---------------------------------------------------------------------------------------------
// Commands

function localeCommands(spec: ResolvedSpec): GuestCommand[] {
  if (spec.locale === undefined || isBuiltinLocale(spec.locale)) return [];
  // Debian's and Ubuntu's locale-gen both build what /etc/locale.gen lists; Debian's ignores arguments.
  return [{ argv: ['locale-gen'], why: `generate the ${spec.locale} locale` }];
}
