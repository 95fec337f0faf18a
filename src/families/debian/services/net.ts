import { probe } from '../../../communicators/probe.js';
import type { ResolvedRouter } from '../../../config/resolve-services.js';
import { check, fail, pass, readGuestFile, why, type Check, type VerifyOptions } from '../../check-kit.js';
import type { NetLayout } from '../../linux/services/net-layout.js';

/*
 * Where the Debian family's packages expect the configured services' files (bind9 reads
 * /etc/bind/named.conf, which includes named.conf.options and named.conf.local; kea-dhcp4-server
 * reads /etc/kea/kea-dhcp4.conf) and how its firewall, nftables, shows the router's NAT.
 */

/** The masquerade rule as /etc/nftables.conf writes it and `nft list ruleset` prints it. */
export function hasMasquerade(ruleset: string, nic: string): boolean {
  return ruleset.split('\n').some((l) => l.trim() === `oifname "${nic}" masquerade`);
}

function natCheck(router: ResolvedRouter & { nat: string }, opts: VerifyOptions): Check {
  return check(`NAT out of ${router.nat}`, async (comm) => {
    if (!opts.booted) {
      const f = await readGuestFile(comm, '/etc/nftables.conf');
      if (!f.ok) return fail(f.detail);
      return hasMasquerade(f.text, router.nat) ? pass('masquerade rule in /etc/nftables.conf') : fail(`/etc/nftables.conf does not masquerade out of ${router.nat}`);
    }
    const r = await probe(comm, ['nft', 'list', 'ruleset']);
    if (r.exitCode !== 0) return fail(why(r, 'nft'));
    return hasMasquerade(r.stdout, router.nat) ? pass(`oifname "${router.nat}" masquerade is loaded`) : fail(`the loaded ruleset does not masquerade out of ${router.nat}`);
  });
}

export const DEBIAN_NET: NetLayout = {
  dns: {
    mainConf: '/etc/bind/named.conf',
    optionsFile: '/etc/bind/named.conf.options',
    zonesFile: '/etc/bind/named.conf.local',
    directory: '/var/cache/bind',
    zoneDir: '/etc/bind',
    extraOptions: [],
    extraStatements: [],
  },
  dhcp: { conf: '/etc/kea/kea-dhcp4.conf', leaseFile: '/var/lib/kea/kea-leases4.csv' },
  router: { natCheck },
};
