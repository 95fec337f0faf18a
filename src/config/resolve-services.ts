import type { DATABASE_ENGINES } from './model-services.js';
import type { VmConfig } from './model.js';
import { absoluteName, parseDnsRecord, parseFixedHost, parseMode, parseRange, type AddressRange, type DnsRecord } from './service-values.js';

/*
 * [files], [scripts] and the service sections of a validated config, resolved into what the
 * configurators, the build and `vmgen verify` read. Pure: host paths stay relative to the config's
 * directory (the build reads them through its ConfigSources), nothing is read here.
 */

/** A config key's place, so a failing script is reported at its line. */
export interface ConfigPath {
  /** The key path in the model, e.g. ['scripts', 'stamp']. */
  path: string[];
}

/** What a [files] or [scripts] entry holds: a path beside the config, or its text written inline. */
export type SourceOrText = { kind: 'source'; source: string } | { kind: 'inline'; content: string };

/** Validation lets exactly one of the two through. */
function sourceOrText(source: string | undefined, text: string | undefined): SourceOrText {
  return source !== undefined ? { kind: 'source', source } : { kind: 'inline', content: text ?? '' };
}

export interface ResolvedFile extends ConfigPath {
  id: string;
  /** Absolute path in the guest. */
  guestPath: string;
  /** A file or directory beside the config (relative path), or the text itself. */
  from: SourceOrText;
  owner: string;
  group: string;
  /** Permission bits of each file; directories get x where r. */
  mode: number;
}

export interface ResolvedScript extends ConfigPath {
  id: string;
  when: 'build' | 'first-boot';
  /** The script's text (`run`, or a file beside the config to read). */
  from: SourceOrText;
  network: boolean;
}

export interface ResolvedSite {
  id: string;
  serverName: string;
  aliases: string[];
  root: string;
  tls: boolean;
}

export interface ResolvedZoneRecord extends DnsRecord {
  /** The owner's absolute name, no final dot, lower case. */
  fqdn: string;
}

export interface ResolvedZone {
  id: string;
  /** The zone's domain, lower case, no final dot. */
  zone: string;
  ttl: number;
  /** The name server's absolute name, no final dot. */
  ns: string;
  /** The SOA contact as an address (hostmaster@lab.example). */
  email: string;
  records: ResolvedZoneRecord[];
}

export interface ResolvedDhcpScope {
  /** The NIC served; it has a static address (validation). */
  nic: string;
  address: string;
  prefix: number;
  /** The NIC's network, e.g. 10.0.1.0. */
  subnet: string;
  netmask: string;
  range: AddressRange;
  gateway?: string;
  dns: string[];
  domain?: string;
  leaseSeconds: number;
  hosts: Array<{ name: string; mac: string; address: string }>;
}

export interface ResolvedRouter {
  /** NICs routed between, in NIC order. */
  forward: string[];
  /** The NIC that NAT masquerades out of. */
  nat?: string;
}

export type DatabaseEngine = (typeof DATABASE_ENGINES)[number];

export interface ResolvedDatabase {
  engine: DatabaseEngine;
  databases: Array<{ name: string; user: string; password: string }>;
}

export interface ResolvedServices {
  web?: { sites: ResolvedSite[] };
  dns?: { forwarders: string[]; zones: ResolvedZone[] };
  dhcp?: { scopes: ResolvedDhcpScope[] };
  router?: ResolvedRouter;
  database?: ResolvedDatabase;
}

export interface ResolvedProvision {
  files: ResolvedFile[];
  scripts: ResolvedScript[];
  services: ResolvedServices;
}

export type ServiceName = keyof ResolvedServices;

/**
 * The catalog apps a configured service needs: the server, and the client `vmgen verify` asks it
 * with from inside the guest. A section implies its server, so `[web]` alone installs one.
 */
export const SERVICE_APPS: Record<ServiceName, (s: ResolvedServices) => string[]> = {
  web: () => ['httpd', 'curl'],
  dns: () => ['dns-server', 'dns-client'],
  dhcp: () => ['dhcp-server'],
  router: () => [],
  database: (s) => [s.database?.engine === 'postgresql' ? 'postgresql' : 'mariadb-server'],
};

/** The apps every configured service implies, in a fixed order. */
export function impliedApps(services: ResolvedServices): string[] {
  return (Object.keys(SERVICE_APPS) as ServiceName[]).filter((k) => services[k] !== undefined).flatMap((k) => SERVICE_APPS[k](services));
}

const DEFAULT_FILE_MODE = 0o644;

/** What the services read of a resolved NIC (resolve.ts's ResolvedNic, which imports this file). */
interface NicAddress {
  name: string;
  address?: string;
  prefix?: number;
  netmask?: string;
  networkAddress?: string;
}

export function resolveProvision(config: VmConfig, nics: readonly NicAddress[], hostname: string): ResolvedProvision {
  return {
    files: Object.entries(config.files).map(([id, f]) => ({
      id,
      path: ['files', id],
      guestPath: f.path,
      from: sourceOrText(f.source, f.content),
      owner: f.owner,
      group: f.group ?? f.owner,
      mode: f.mode === undefined ? DEFAULT_FILE_MODE : parseMode(f.mode),
    })),
    scripts: Object.entries(config.scripts).map(([id, s]) => ({
      id,
      path: ['scripts', id],
      when: s.when,
      from: sourceOrText(s.source, s.run),
      network: s.network,
    })),
    services: resolveServices(config, nics, hostname),
  };
}

function resolveServices(config: VmConfig, nics: readonly NicAddress[], hostname: string): ResolvedServices {
  const services: ResolvedServices = {};
  if (config.web !== undefined) {
    services.web = {
      sites: Object.entries(config.web).map(([id, s]) => ({ id, serverName: s.server_name, aliases: s.aliases, root: s.root, tls: s.tls })),
    };
  }
  if (config.dns !== undefined) {
    const { forwarders, ...zones } = config.dns;
    services.dns = {
      forwarders,
      zones: Object.entries(zones).map(([id, z]) => {
        const zone = z.zone.toLowerCase().replace(/\.$/, '');
        const records: ResolvedZoneRecord[] = [];
        for (const [name, values] of Object.entries(z.records)) {
          for (const text of values) {
            const r = parseDnsRecord(name, text);
            if (!r.ok) throw new Error(`record ${name} = ${text} does not parse: resolveSpec needs a validated config`);
            records.push({ ...r.value, fqdn: absoluteName(name, zone) });
          }
        }
        const ns = absoluteName(z.ns ?? hostname.split('.')[0]!, zone);
        return { id, zone, ttl: z.ttl, ns, email: z.email ?? `hostmaster@${zone}`, records };
      }),
    };
  }
  if (config.dhcp !== undefined) {
    services.dhcp = {
      scopes: Object.entries(config.dhcp).map(([name, s]) => {
        const nic = nics.find((n) => n.name === name);
        const range = parseRange(s.range);
        if (nic?.address === undefined || nic.prefix === undefined || !range.ok) throw new Error(`DHCP scope ${name} is not valid: resolveSpec needs a validated config`);
        return {
          nic: name,
          address: nic.address,
          prefix: nic.prefix,
          subnet: nic.networkAddress!,
          netmask: nic.netmask!,
          range: range.value,
          ...(s.gateway === undefined ? {} : { gateway: s.gateway }),
          dns: s.dns,
          ...(s.domain === undefined ? {} : { domain: s.domain }),
          leaseSeconds: s.lease,
          hosts: Object.entries(s.hosts).map(([host, items]) => {
            const h = parseFixedHost(items);
            if (!h.ok) throw new Error(`fixed host ${host} is not valid: resolveSpec needs a validated config`);
            return { name: host, ...h.value };
          }),
        };
      }),
    };
  }
  if (config.router !== undefined) {
    const r = config.router;
    const forward = r.forward.length > 0 ? nics.map((n) => n.name).filter((n) => r.forward.includes(n)) : nics.map((n) => n.name);
    services.router = { forward, ...(r.nat === undefined ? {} : { nat: r.nat }) };
  }
  if (config.database !== undefined) {
    const { engine, ...dbs } = config.database;
    services.database = { engine, databases: Object.entries(dbs).map(([id, d]) => ({ name: d.name ?? id, user: d.user, password: d.password })) };
  }
  return services;
}
