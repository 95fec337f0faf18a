import type { DhcpLayout } from './dhcp.js';
import type { DnsLayout } from './dns.js';
import type { RouterLayout } from './router.js';

/**
 * What differs between the Linux families for the DNS and DHCP servers and the router (paths,
 * checks), one value per family in src/families/<f>/services/net.ts; the rendering is shared.
 */
export interface NetLayout {
  dns: DnsLayout;
  dhcp: DhcpLayout;
  router: RouterLayout;
}
