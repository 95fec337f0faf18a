import type { ResolvedSpec } from '../../config/resolve.js';
import { VmgenError } from '../../errors.js';
import { ROUTES_UNIT, isBuiltinLocale, renderRoutesUnit } from '../debian/render.js';
import { accountCommands, stagedKeyFiles } from '../linux/accounts.js';
import { withProvision } from '../linux/provision.js';
import { identityFiles } from '../linux/identity.js';
import { nicRouting } from '../linux/network.js';
import { databasePackages, databasePlan, databaseUnits } from '../linux/services/database.js';
import { joinPlans } from '../linux/services/join.js';
import { webPackages, webPlan } from '../linux/services/web.js';
import { netPlan } from '../linux/services/net-plan.js';
import { enableCommand, timezoneLinks } from '../linux/systemd.js';
import type { Configurator, GuestContext, GuestFile, GuestPlan, SystemdEnable } from '../types.js';
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
import { REDHAT_DATABASE } from './services/database.js';
import { REDHAT_WEB } from './services/web.js';
import { defaultZoneForward, routerFirewallFiles, zoneOfNic } from './services/router.js';
import { REDHAT_NET } from './services/net.js';

/*
 * The RedHat-family configurator (Fedora, Rocky, Alma): the seed's ConfigRedHat, with today's
 * tools. NICs through NetworkManager keyfiles, the firewall through a firewalld zone, accounts
 * with shadow-utils run inside the root as on Debian. Pure: nothing here touches a disk.
 */

/** What the plan itself needs in the guest, by Fedora/EL package name. */
const BASE_PACKAGES = ['NetworkManager', 'firewalld', 'iproute', 'shadow-utils', 'sudo', 'systemd'];

/** Fedora and EL have been merged-usr from the start: systemd's vendor units are in /usr/lib alone. */
const REDHAT_UNIT_DIRS: SystemdEnable['vendorDirs'] = [{ dir: '/usr/lib/systemd/system' }];

export { STAGED_KEYS_DIR } from '../linux/accounts.js';

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
    ...webPackages(spec.provision.services.web?.sites ?? [], REDHAT_WEB),
    ...databasePackages(spec.provision.services.database, REDHAT_DATABASE),
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
    ...databaseUnits(spec.provision.services.database, REDHAT_DATABASE),
  ];
}

export function redhatPlan(ctx: GuestContext): GuestPlan {
  const { spec } = ctx;
  if (spec.repos.length > 0) {
    throw new VmgenError('VMG_UNSUPPORTED', 'extra repositories ([config] repos) are apt source lines; RedHat-family guests cannot use them yet', {
      hint: 'remove [config] repos, or point `mirror` at a repository that has every package',
    });
  }
  const services = joinPlans(
    webPlan(spec.provision.services.web?.sites ?? [], REDHAT_WEB),
    databasePlan(spec, REDHAT_DATABASE),
    netPlan(ctx, REDHAT_NET),
  );
  const router = spec.provision.services.router;
  return {
    files: [
      ...identityFiles(spec, renderHosts),
      ...networkFiles(ctx),
      { path: ZONE_FILE, content: renderZone(spec.openPorts, defaultZoneForward(router) ? { forward: true } : {}) },
      ...routerFirewallFiles(router, spec.openPorts),
      { path: FIREWALLD_CONF, content: renderFirewalldConf() },
      ...(spec.rawRules.length > 0
        ? [{ path: RAW_RULES_FILE, content: renderRawRules(spec.rawRules) }, { path: `/etc/systemd/system/${RAW_RULES_UNIT}.service`, content: renderRawRulesUnit() }]
        : []),
      ...regionalFiles(spec),
      ...(needsSudoGroup(spec) ? [{ path: SUDO_GROUP_FILE, content: renderSudoersGroup(SUDO_GROUP), mode: 0o440 }] : []),
      ...stagedKeyFiles(spec),
      ...services.files,
    ],
    // Fedora and EL read the zone from the /etc/localtime link alone; there is no /etc/timezone.
    links: [...timezoneLinks(spec, '../usr/share/zoneinfo'), ...services.links],
    commands: [
      ...(needsSudoGroup(spec) ? [{ argv: ['groupadd', '-f', SUDO_GROUP], why: 'make sure the sudo group exists (Fedora and EL call theirs wheel)' }] : []),
      // shadow-utils takes the same arguments as on Debian.
      ...accountCommands(spec),
      ...services.commands,
      enableCommand(redhatServices(ctx), spec.appServices, REDHAT_UNIT_DIRS),
    ],
  };
}

export const redhatConfigurator: Configurator = {
  id: 'redhat',
  packages: redhatPackages,
  services: redhatServices,
  plan: (ctx) => withProvision(ctx, redhatPlan(ctx)),
};

// ---------------------------------------------------------------------------------------------
// Files

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
  return [
    ...confFile,
    ...nicRouting(spec).map(({ nic, gateway, routes }): GuestFile => {
      const zone = zoneOfNic(spec.provision.services.router, nic.name);
      const content = renderKeyfile(nic, { hostname: spec.hostname, ...(gateway === undefined ? {} : { gateway }), ...(zone === undefined ? {} : { zone }), routes });
      return { path: `${CONNECTIONS_DIR}/${nic.name}.nmconnection`, content, mode: 0o600 };
    }),
  ];
}

function regionalFiles(spec: ResolvedSpec): GuestFile[] {
  return [
    ...(spec.locale === undefined ? [] : [{ path: '/etc/locale.conf', content: renderLocaleConf(spec.locale) }]),
    ...(spec.keyboard === undefined ? [] : [{ path: '/etc/vconsole.conf', content: renderVconsoleConf(spec.keyboard) }]),
  ];
}
