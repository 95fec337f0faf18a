import { probe } from '../../communicators/probe.js';
import type { ResolvedPort, ResolvedSpec } from '../../config/resolve.js';
import { databaseChecks } from '../linux/services/database-checks.js';
import { webChecks } from '../linux/services/web-checks.js';
import { check, fail, pass, readGuestFile, shown, why, type Check, type CheckResult, type FamilyChecks, type VerifyOptions } from '../check-kit.js';
import { linuxServiceChecks } from '../linux/services/checks.js';
import { FIREWALLD_CONF, ZONE_FILE } from './configure.js';
import { REDHAT_NET } from './services/net.js';
import { RAW_RULES_FILE, RAW_RULES_UNIT, RAW_TABLE, ZONE } from './render.js';
import { REDHAT_WEB } from './services/web.js';

/*
 * The RedHat family's checks for `vmgen verify`: rpm answers for packages, firewalld for the
 * firewall. Booted, firewalld is asked what it enforces (its runtime zone, over D-Bus); otherwise the files
 * it will read at boot are.
 */

function packageCheck(pkg: string): Check {
  return check(`package ${pkg}`, async (comm) => {
    const r = await probe(comm, ['rpm', '-q', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}\\n', '--', pkg]);
    if (r.exitCode === 1 && /is not installed/.test(r.stdout + r.stderr)) return fail('not installed (unknown to rpm)');
    if (r.exitCode !== 0) return fail(why(r, 'rpm'));
    return pass(`installed (${shown(r.stdout.trim().split('\n')[0] ?? '')})`);
  });
}

/** What a zone holds, as far as the checks care. */
interface ZoneView {
  source: string;
  defaultZone: string;
  target: string;
  ports: Set<string>;
}

type ZoneRead = { ok: true; zone: ZoneView } | { ok: false; detail: string };

/** `firewall-cmd --info-zone` prints "  target: DROP" and "  ports: 22/tcp 80/tcp", one key a line. */
export function parseInfoZone(text: string): { target?: string; ports: string[] } {
  const field = (key: string): string | undefined => new RegExp(`^\\s*${key}:[ \\t]*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const target = field('target');
  return { ...(target === undefined ? {} : { target }), ports: (field('ports') ?? '').split(/\s+/).filter(Boolean) };
}

/** The zone file's target and `<port protocol= port=/>` elements; attributes in either order. */
export function parseZoneFile(xml: string): { target?: string; ports: string[] } {
  const target = /<zone\b[^>]*\btarget="([^"]*)"/.exec(xml)?.[1];
  const ports = [...xml.matchAll(/<port\b([^>]*)\/?>/g)].flatMap((m) => {
    const attrs = m[1] ?? '';
    const proto = /\bprotocol="([^"]*)"/.exec(attrs)?.[1];
    const port = /\bport="([^"]*)"/.exec(attrs)?.[1];
    return proto && port ? [`${port}/${proto}`] : [];
  });
  return { ...(target === undefined ? {} : { target }), ports };
}

async function readZone(comm: Parameters<Check['run']>[0], booted: boolean): Promise<ZoneRead> {
  if (booted) {
    const d = await probe(comm, ['firewall-cmd', '--get-default-zone']);
    if (d.exitCode !== 0) return { ok: false, detail: why(d, 'firewall-cmd') };
    const defaultZone = d.stdout.trim();
    const info = await probe(comm, ['firewall-cmd', `--info-zone=${defaultZone}`]);
    if (info.exitCode !== 0) return { ok: false, detail: why(info, 'firewall-cmd') };
    const z = parseInfoZone(info.stdout);
    return { ok: true, zone: { source: `firewalld's running zone ${shown(defaultZone)}`, defaultZone, target: z.target ?? '?', ports: new Set(z.ports) } };
  }
  const conf = await readGuestFile(comm, FIREWALLD_CONF);
  if (!conf.ok) return conf;
  const defaultZone = /^\s*DefaultZone=(\S*)/m.exec(conf.text)?.[1] ?? '(unset)';
  const file = await readGuestFile(comm, ZONE_FILE);
  if (!file.ok) return file;
  const z = parseZoneFile(file.text);
  return { ok: true, zone: { source: ZONE_FILE, defaultZone, target: z.target ?? '(unset)', ports: new Set(z.ports) } };
}

function zoneCheck(booted: boolean): Check {
  return check('firewall input policy', async (comm) => {
    const r = await readZone(comm, booted);
    if (!r.ok) return fail(r.detail);
    if (r.zone.defaultZone !== ZONE) return fail(`the default zone is ${shown(r.zone.defaultZone)}, want ${ZONE}`);
    return r.zone.target === 'DROP' ? pass(`DROP, in ${r.zone.source}`) : fail(`${shown(r.zone.target)} in ${r.zone.source}, want DROP`);
  });
}

function portCheck(port: ResolvedPort, booted: boolean): Check {
  const protos = port.proto === 'all' ? (['tcp', 'udp'] as const) : ([port.proto] as const);
  const ports = port.from === port.to ? `${port.from}` : `${port.from}-${port.to}`;
  return check(`firewall accepts ${protos.join('+')} ${ports}`, async (comm) => {
    const r = await readZone(comm, booted);
    if (!r.ok) return fail(r.detail);
    const missing = protos.filter((proto) => !r.zone.ports.has(`${ports}/${proto}`));
    if (missing.length === 0) return pass(`in ${r.zone.source}`);
    return fail(`no port ${ports}/${missing.join(' or /')} in ${r.zone.source}`);
  });
}

/** The rules of the raw table's input chain, from `nft list table` or the file that loads it: every line that is not structure. */
export function rawRuleLines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^(table|delete|chain|type|policy)\b|^}$|^#/.test(l));
}

/** The raw rules' own table: loaded when booted, on disk otherwise; either way with as many rules as the config has. */
function rawRulesCheck(spec: ResolvedSpec, booted: boolean): Check {
  const want = spec.rawRules.length;
  const verdict = (rules: string[], where: string): CheckResult =>
    rules.length === want ? pass(`${want} in ${where}`) : fail(`${where} has ${rules.length} rules, want ${want}`);
  return check('firewall raw rules', async (comm): Promise<CheckResult> => {
    if (!booted) {
      const f = await readGuestFile(comm, RAW_RULES_FILE);
      return f.ok ? verdict(rawRuleLines(f.text), `${RAW_RULES_FILE} (loaded by ${RAW_RULES_UNIT}.service)`) : fail(f.detail);
    }
    const r = await probe(comm, ['nft', 'list', 'table', 'inet', RAW_TABLE]);
    if (r.exitCode !== 0) return fail(`table inet ${RAW_TABLE} is not loaded: ${why(r, 'nft')}`);
    return verdict(rawRuleLines(r.stdout), `table inet ${RAW_TABLE}`);
  });
}

export const redhatChecks: FamilyChecks = {
  packageCheck,
  services: (spec) => ['firewalld', 'NetworkManager', ...(spec.rawRules.length > 0 ? [RAW_RULES_UNIT] : [])],
  firewallChecks: (spec: ResolvedSpec, opts: VerifyOptions) => [
    zoneCheck(opts.booted),
    ...spec.openPorts.map((p) => portCheck(p, opts.booted)),
    ...(spec.rawRules.length > 0 ? [rawRulesCheck(spec, opts.booted)] : []),
  ],
  serviceChecks: (spec, opts) => [
    ...linuxServiceChecks(spec, opts, REDHAT_NET),
    ...webChecks(spec.provision.services.web?.sites ?? [], REDHAT_WEB, opts),
    ...databaseChecks(spec.provision.services.database, opts),
  ],
  localeFile: '/etc/locale.conf',
};
