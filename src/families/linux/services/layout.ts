import type { DhcpLayout } from './dhcp.js';
import type { DnsLayout } from './dns.js';
import type { RouterLayout } from './router.js';

/**
 * What differs between the Linux families for the configured services (paths, users, checks),
 * one value per family in src/families/<f>/services.ts; the rendering itself is shared.
 */
export interface ServiceLayout {
  dns: DnsLayout;
  dhcp: DhcpLayout;
  router: RouterLayout;
}
