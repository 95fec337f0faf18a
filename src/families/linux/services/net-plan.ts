import type { GuestContext, GuestPlan } from '../../types.js';
import { dhcpPlan } from './dhcp.js';
import { dnsPlan } from './dns.js';
import { joinPlans } from './join.js';
import type { NetLayout } from './net-layout.js';
import { routerPlan } from './router.js';

/*
 * The DNS and DHCP servers' and the router's part of a Linux guest's plan: each adds its files
 * and the commands that check them with the server's own checker, so a build fails at the service rather
 * than at boot. The packages and their units come from the implied catalog apps; the firewall's
 * part of the router is the family firewall renderer's.
 */

export function netPlan({ spec }: GuestContext, layout: NetLayout): GuestPlan {
  return joinPlans(dnsPlan(spec, layout.dns), dhcpPlan(spec, layout.dhcp), routerPlan(spec));
}
