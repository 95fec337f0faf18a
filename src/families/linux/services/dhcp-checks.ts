import { probe } from '../../../communicators/probe.js';
import type { ResolvedSpec } from '../../../config/resolve.js';
import type { ResolvedDhcpScope } from '../../../config/resolve-services.js';
import { check, fail, pass, shown, why, type Check, type VerifyOptions } from '../../check-kit.js';
import type { DhcpLayout } from './dhcp.js';
import { untilPass } from './poll.js';

/*
 * The DHCP server, booted: Kea's own checker passes on its configuration (it wants the scopes'
 * NICs to exist, so only in the running guest) and Kea listens on UDP 67 on each scope's NIC. A DHCP exchange itself needs a client on the NIC's network, which
 * the guest alone does not have; the integration tests make one.
 */

export const DHCP_PORT = 67;

export function dhcpChecks(spec: ResolvedSpec, opts: VerifyOptions, layout: DhcpLayout): Check[] {
  const dhcp = spec.provision.services.dhcp;
  if (dhcp === undefined) return [];
  if (!opts.booted) return [];
  return [configCheck(layout), ...dhcp.scopes.map((s) => listenCheck(s, opts))];
}

function configCheck(layout: DhcpLayout): Check {
  return check('DHCP server configuration', async (comm) => {
    const r = await probe(comm, ['kea-dhcp4', '-t', layout.conf]);
    if (r.exitCode === 0) return pass(`kea-dhcp4 -t ${layout.conf} passes`);
    const first = [...r.stderr.split('\n'), ...r.stdout.split('\n')].map((l) => l.trim()).find((l) => /error|fail|invalid/i.test(l));
    return fail(first === undefined ? why(r, 'kea-dhcp4') : shown(first));
  });
}

/** `ss -Hlunp sport = :67`: the local address column of each UDP socket on port 67, with its process. */
export function listeners(ssOutput: string): Array<{ local: string; process: string }> {
  return ssOutput.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 5).map((f) => ({ local: f[3] ?? '', process: f.slice(5).join(' ') }));
}

/** Kea binds its UDP socket to the NIC's address, or to the NIC itself (`*%eth1:67`). */
export function listensOn(scope: Pick<ResolvedDhcpScope, 'nic' | 'address'>, local: string): boolean {
  return local === `${scope.address}:${DHCP_PORT}` || local.endsWith(`%${scope.nic}:${DHCP_PORT}`);
}

function listenCheck(scope: ResolvedDhcpScope, opts: VerifyOptions): Check {
  return check(`DHCP server listens on ${scope.nic}`, (comm) => untilPass(comm, opts, async (c) => {
    const r = await probe(c, ['ss', '-Hlunp', 'sport', '=', `:${DHCP_PORT}`]);
    if (r.exitCode !== 0) return fail(why(r, 'ss'));
    const all = listeners(r.stdout);
    const mine = all.filter((l) => listensOn(scope, l.local));
    const kea = mine.find((l) => l.process === '' || l.process.includes('kea-dhcp4'));
    if (kea !== undefined) return pass(`UDP ${kea.local}${kea.process === '' ? '' : ' (kea-dhcp4)'}`);
    if (mine.length > 0) return fail(`UDP ${DHCP_PORT} on ${scope.nic} is held by ${shown(mine.map((l) => l.process).join(', '))}, not kea-dhcp4`);
    return fail(all.length === 0 ? `nothing listens on UDP ${DHCP_PORT}` : `UDP ${DHCP_PORT} is open on ${shown(all.map((l) => l.local).join(', '))}, not on ${scope.address} (${scope.nic})`);
  }));
}
