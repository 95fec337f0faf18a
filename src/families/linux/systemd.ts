import type { ResolvedSpec } from '../../config/resolve.js';
import { quote } from '../../config/validators.js';
import { assertTimezone } from '../debian/render.js';
import type { GuestCommand, GuestLink, SystemdEnable } from '../types.js';
import { UNIT_NAME } from './unit-install.js';


/**
 * One `systemctl enable` for the family's own services and the config's, each named once. The
 * applier may make its links itself (enable-offline.ts), from the family's `vendorDirs`.
 */
export function enableCommand(services: readonly string[], appServices: readonly string[], vendorDirs: SystemdEnable['vendorDirs']): GuestCommand {
  const units = [...new Set([...services, ...appServices])];
  for (const unit of units) if (!UNIT_NAME.test(unit)) throw new Error(`${quote(unit)} is not a systemd unit name`);
  return { argv: ['systemctl', 'enable', ...units], why: 'start the firewall, network and application services at boot', offline: { units, vendorDirs } };
}

/**
 * The /etc/localtime link systemd reads the zone from. `zoneinfo` is how the family writes the
 * link's target (absolute on Debian, relative on Fedora and EL, as their own tools make it).
 */
export function timezoneLinks(spec: ResolvedSpec, zoneinfo: '/usr/share/zoneinfo' | '../usr/share/zoneinfo'): GuestLink[] {
  if (spec.timezone === undefined) return [];
  return [{ path: '/etc/localtime', target: `${zoneinfo}/${assertTimezone(spec.timezone)}` }];
}
