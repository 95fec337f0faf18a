import { probe } from '../../communicators/probe.js';
import type { Communicator } from '../../communicators/types.js';
import type { ResolvedPort, ResolvedSpec } from '../../config/resolve.js';
import { databaseChecks } from '../linux/services/database-checks.js';
import { webChecks } from '../linux/services/web-checks.js';
import { check, fail, pass, readGuestFile, shown, why, type Check, type FamilyChecks, type VerifyOptions } from '../check-kit.js';
import { inetFilterInputChains, ruleAccepting, type InputChain } from '../linux/nft-ruleset.js';
import { DEBIAN_WEB } from './services/web.js';
import { linuxServiceChecks } from '../linux/services/checks.js';
import { DEBIAN_NET } from './services/net.js';

/*
 * The Debian family's checks for `vmgen verify`: dpkg answers for packages, nftables for the
 * firewall. Booted, the kernel's loaded ruleset is read; otherwise the file nftables.service
 * loads at boot.
 */

function packageCheck(pkg: string): Check {
  return check(`package ${pkg}`, async (comm) => {
    const r = await probe(comm, ['dpkg-query', '-W', '--showformat=${Status}\\n', '--', pkg]);
    if (r.exitCode === 1 && /no packages found/.test(r.stderr)) return fail('not installed (unknown to dpkg)');
    if (r.exitCode !== 0) return fail(why(r, 'dpkg-query'));
    const status = r.stdout.trim();
    return status === 'install ok installed' ? pass('installed') : fail(`status is ${shown(status)}`);
  });
}

type Ruleset = { ok: true; chains: InputChain[]; source: string } | { ok: false; detail: string };

/** What the kernel enforces when booted; otherwise the file nftables.service will load at boot. */
async function readRuleset(comm: Communicator, booted: boolean): Promise<Ruleset> {
  if (!booted) {
    const f = await readGuestFile(comm, '/etc/nftables.conf');
    return f.ok ? { ok: true, chains: inetFilterInputChains(f.text), source: '/etc/nftables.conf' } : f;
  }
  const r = await probe(comm, ['nft', 'list', 'ruleset']);
  if (r.exitCode !== 0) return { ok: false, detail: why(r, 'nft') };
  return { ok: true, chains: inetFilterInputChains(r.stdout), source: 'the loaded ruleset' };
}

function firewallChecks(spec: ResolvedSpec, opts: VerifyOptions): Check[] {
  return [policyCheck(opts.booted), ...spec.openPorts.map((p) => portCheck(p, opts.booted))];
}

function policyCheck(booted: boolean): Check {
  return check('firewall input policy', async (comm) => {
    const rs = await readRuleset(comm, booted);
    if (!rs.ok) return fail(rs.detail);
    if (rs.chains.length === 0) return fail(`${rs.source} has no input chain in table inet filter`);
    const policies = rs.chains.map((c) => c.policy ?? 'accept'); // nft's default policy is accept
    if (policies.every((p) => p === 'drop')) return pass(`drop, in ${rs.source}`);
    return fail(`${shown(policies.join(', '))} in ${rs.source}, want drop`);
  });
}

function portCheck(port: ResolvedPort, booted: boolean): Check {
  const protos = port.proto === 'all' ? (['tcp', 'udp'] as const) : ([port.proto] as const);
  const ports = port.from === port.to ? `${port.from}` : `${port.from}-${port.to}`;
  return check(`firewall accepts ${protos.join('+')} ${ports}`, async (comm) => {
    const rs = await readRuleset(comm, booted);
    if (!rs.ok) return fail(rs.detail);
    const missing = protos.filter((proto) => ruleAccepting(rs.chains, proto, port) === undefined);
    if (missing.length === 0) return pass(`in ${rs.source}`);
    return fail(`no rule accepting ${missing.join(' and ')} port ${ports} in ${rs.source}`);
  });
}

export const debianChecks: FamilyChecks = {
  packageCheck,
  services: () => ['nftables'],
  firewallChecks,
  serviceChecks: (spec, opts) => [
    ...linuxServiceChecks(spec, opts, DEBIAN_NET),
    ...webChecks(spec.provision.services.web?.sites ?? [], DEBIAN_WEB, opts),
    ...databaseChecks(spec.provision.services.database, opts),
  ],
  localeFile: '/etc/default/locale',
};
