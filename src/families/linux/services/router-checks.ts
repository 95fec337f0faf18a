import { probe } from '../../../communicators/probe.js';
import type { ResolvedSpec } from '../../../config/resolve.js';
import { check, fail, pass, readGuestFile, shown, why, type Check, type VerifyOptions } from '../../check-kit.js';
import type { RouterLayout } from './router.js';
import { IP_FORWARD_KEY, ROUTER_SYSCTL_FILE } from './router.js';

/*
 * The router: forwarding is on (booted: the kernel's value; otherwise the sysctl file applied at
 * boot) and the family's firewall masquerades out of the NAT NIC.
 */

export function routerChecks(spec: ResolvedSpec, opts: VerifyOptions, layout: RouterLayout): Check[] {
  const router = spec.provision.services.router;
  if (router === undefined) return [];
  const nat = router.nat;
  return [forwardingCheck(opts), ...(nat === undefined ? [] : [layout.natCheck({ ...router, nat }, opts)])];
}

function forwardingCheck(opts: VerifyOptions): Check {
  if (!opts.booted) {
    return check('IPv4 forwarding configured', async (comm) => {
      const f = await readGuestFile(comm, ROUTER_SYSCTL_FILE);
      if (!f.ok) return fail(f.detail);
      return new RegExp(`^\\s*${IP_FORWARD_KEY.replace(/\./g, '\\.')}\\s*=\\s*1\\s*$`, 'm').test(f.text)
        ? pass(`${IP_FORWARD_KEY} = 1 in ${ROUTER_SYSCTL_FILE}`)
        : fail(`${ROUTER_SYSCTL_FILE} does not set ${IP_FORWARD_KEY} = 1`);
    });
  }
  return check('IPv4 forwarding on', async (comm) => {
    const r = await probe(comm, ['cat', '/proc/sys/net/ipv4/ip_forward']);
    if (r.exitCode !== 0) return fail(why(r, 'cat'));
    const value = r.stdout.trim();
    return value === '1' ? pass(`${IP_FORWARD_KEY} = 1`) : fail(`${IP_FORWARD_KEY} is ${shown(value)}, want 1`);
  });
}
