import type { ResolvedNic, ResolvedSpec } from '../../config/resolve.js';
import { ipInSubnet, parseIPv4, quote } from '../../config/validators.js';

type Route = ResolvedSpec['routes'][number];

/** One NIC with the default gateway (if it is reached through it) and the routes that leave through it. */
export interface NicRouting {
  nic: ResolvedNic;
  gateway?: string;
  routes: Route[];
}

/**
 * Which NIC each of the spec's next hops is reached through, for a guest that owns its NICs. A
 * NIC's own gateway wins over the default one.
 */
export function nicRouting(spec: ResolvedSpec): NicRouting[] {
  const gatewayNic = spec.gateway === undefined ? undefined : nicForNextHop(spec.nics, spec.gateway, 'the default gateway');
  const routes = spec.routes.map((route) => ({ route, nic: nicForRoute(spec.nics, route) }));
  return spec.nics.map((nic) => {
    const gateway = nic.gateway ?? (nic === gatewayNic ? spec.gateway : undefined);
    const own = routes.filter((r) => r.nic === nic).map((r) => r.route);
    return { nic, ...(gateway === undefined ? {} : { gateway }), routes: own };
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
  const onLink = nextHopNic(nics, ip.value);
  if (onLink === undefined) throw new Error(`${what}: next hop ${hop} is in no static NIC's subnet and there is no DHCP NIC to reach it`);
  return onLink;
}

/** The NIC that reaches a next hop, or undefined; validation asks the same question before a build does. */
export function nextHopNic(nics: readonly ResolvedNic[], hop: number): ResolvedNic | undefined {
  return nics.find((n) => n.mode === 'static' && inSubnetOf(n, hop)) ?? nics.find((n) => n.mode === 'dhcp');
}

function inSubnetOf(nic: ResolvedNic, ip: number): boolean {
  if (nic.address === undefined || nic.prefix === undefined) return false;
  const own = parseIPv4(nic.address);
  return own.ok && ipInSubnet(ip, own.value, nic.prefix);
}
