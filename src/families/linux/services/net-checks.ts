import type { ResolvedSpec } from '../../../config/resolve.js';
import type { Check, VerifyOptions } from '../../check-kit.js';
import { dhcpChecks } from './dhcp-checks.js';
import { dnsChecks } from './dns-checks.js';
import type { NetLayout } from './net-layout.js';
import { routerChecks } from './router-checks.js';

/**
 * `vmgen verify`'s checks of the DNS and DHCP servers and the router, asked from inside the guest
 * as a client would. Each family's checks row calls this with its data (FamilyChecks.configuredServices).
 */
export function netChecks(spec: ResolvedSpec, opts: VerifyOptions, net: NetLayout): Check[] {
  return [
    ...dnsChecks(spec, opts, net.dns),
    ...dhcpChecks(spec, opts, net.dhcp),
    ...routerChecks(spec, opts, net.router),
  ];
}
