import type { ResolvedSpec } from '../../config/resolve.js';
import { renderHostname, renderResolvConf } from '../debian/render.js';
import type { GuestFile } from '../types.js';

/**
 * /etc/hostname, /etc/hosts and (when the config names servers) /etc/resolv.conf. Only /etc/hosts
 * differs between the families, so each passes its own renderer; it gets the first static address.
 */
export function identityFiles(spec: ResolvedSpec, renderHosts: (hostname: string, staticAddress?: string) => string): GuestFile[] {
  const staticAddress = spec.nics.find((n) => n.mode === 'static' && n.address !== undefined)?.address;
  return [
    { path: '/etc/hostname', content: renderHostname(spec.hostname) },
    { path: '/etc/hosts', content: renderHosts(spec.hostname, staticAddress) },
    ...(spec.dns.length > 0 ? [{ path: '/etc/resolv.conf', content: renderResolvConf(spec.dns) }] : []),
  ];
}
