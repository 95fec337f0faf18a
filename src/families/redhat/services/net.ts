import { probe } from '../../../communicators/probe.js';
import type { ResolvedRouter } from '../../../config/resolve-services.js';
import { check, fail, pass, readGuestFile, shown, why, type Check, type CheckResult, type VerifyOptions } from '../../check-kit.js';
import type { NetLayout } from '../../linux/services/net-layout.js';
import { NAT_ZONE, NAT_ZONE_FILE, ROUTER_POLICY, ROUTER_POLICY_FILE } from './router.js';

/*
 * Where the RedHat family's packages expect the configured services' files (bind reads
 * /etc/named.conf alone, zones in /var/named; kea reads /etc/kea/kea-dhcp4.conf) and how its
 * firewall, firewalld, shows the router's NAT.
 */

async function natBooted(comm: Parameters<Check['run']>[0], nic: string): Promise<CheckResult> {
  const zone = await probe(comm, ['firewall-cmd', `--get-zone-of-interface=${nic}`]);
  if (zone.exitCode !== 0) return fail(`${nic} is in no zone: ${why(zone, 'firewall-cmd')}`);
  if (zone.stdout.trim() !== NAT_ZONE) return fail(`${nic} is in zone ${shown(zone.stdout.trim())}, want ${NAT_ZONE}`);
  const masq = await probe(comm, ['firewall-cmd', `--policy=${ROUTER_POLICY}`, '--query-masquerade']);
  return masq.stdout.trim() === 'yes' ? pass(`policy ${ROUTER_POLICY} masquerades into zone ${NAT_ZONE} (${nic})`) : fail(`policy ${ROUTER_POLICY} does not masquerade: ${why(masq, 'firewall-cmd')}`);
}

async function natFiles(comm: Parameters<Check['run']>[0], nic: string): Promise<CheckResult> {
  const policy = await readGuestFile(comm, ROUTER_POLICY_FILE);
  if (!policy.ok) return fail(policy.detail);
  if (!/<masquerade\s*\/>/.test(policy.text)) return fail(`${ROUTER_POLICY_FILE} does not masquerade`);
  const zone = await readGuestFile(comm, NAT_ZONE_FILE);
  if (!zone.ok) return fail(zone.detail);
  return zone.text.includes(`<interface name="${nic}"/>`) ? pass(`${ROUTER_POLICY_FILE} masquerades into ${NAT_ZONE} (${nic})`) : fail(`${NAT_ZONE_FILE} does not hold ${nic}`);
}

function natCheck(router: ResolvedRouter & { nat: string }, opts: VerifyOptions): Check {
  return check(`NAT out of ${router.nat}`, (comm) => (opts.booted ? natBooted(comm, router.nat) : natFiles(comm, router.nat)));
}

export const REDHAT_NET: NetLayout = {
  dns: {
    mainConf: '/etc/named.conf',
    optionsFile: '/etc/named.conf',
    zonesFile: '/etc/named.conf',
    directory: '/var/named',
    zoneDir: '/var/named',
    // What Fedora's and EL's own named.conf sets, which this file replaces.
    extraOptions: [
      'dump-file "/var/named/data/cache_dump.db";',
      'statistics-file "/var/named/data/named_stats.txt";',
      'managed-keys-directory "/var/named/dynamic";',
      'pid-file "/run/named/named.pid";',
      'session-keyfile "/run/named/session.key";',
      'include "/etc/crypto-policies/back-ends/bind.config";',
    ],
    extraStatements: [
      'zone "." IN {',
      '\ttype hint;',
      '\tfile "named.ca";',
      '};',
      'include "/etc/named.rfc1912.zones";',
      'include "/etc/named.root.key";',
    ],
  },
  dhcp: { conf: '/etc/kea/kea-dhcp4.conf', leaseFile: '/var/lib/kea/kea-leases4.csv' },
  router: { natCheck },
};
