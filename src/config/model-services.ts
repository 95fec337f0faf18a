import { z } from 'zod';
import { bool, choice, hostname, int, ipv4, list, MULTI_LINE, multiLineText, pattern, textField } from './fields.js';

/*
 * The sections that make a machine useful on arrival (the seed's section 6.3): files to place,
 * scripts to run, and services configured from a few keys. Each section's subsections are named by
 * the user (an id, as [hardware] [[hdds]] are); the names the guest sees are keys inside them, so
 * `vmgctl web.conf dns.lab.ttl=60` stays a plain dotted path even for a zone called lab.example.
 */

/** Octal permission bits as written in the file (0644, 755); the model holds the number. */
const fileMode = (description: string) =>
  pattern(/^0?[0-7]{3,4}$/, '0644', description);

export const SCRIPT_WHEN = ['build', 'first-boot'] as const;
export const DATABASE_ENGINES = ['mariadb', 'postgresql'] as const;
export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS'] as const;

const fileEntry = z.strictObject({
  path: textField('where the file or directory goes in the guest (absolute path)'),
  source: textField('a file or directory beside the config (relative path), copied recursively').optional(),
  content: multiLineText('the file\'s text, for small files written inline (triple quotes for several lines)').optional(),
  owner: textField('owner in the guest (a user of [users] or of the OS, e.g. www-data)').default('root'),
  group: textField('group in the guest').optional(),
  mode: fileMode('permission bits of each file, octal; directories get x where r').optional(),
});

const scriptEntry = z.strictObject({
  when: choice(SCRIPT_WHEN, 'build: in the guest\'s root after configuration, before archiving; first-boot: once, at the first start').default('build'),
  run: multiLineText('the commands, run by /bin/sh -e (triple quotes for several lines)').optional(),
  source: textField('a script file beside the config, instead of run; its #! line picks the interpreter').optional(),
  network: bool('build scripts only: give the script network access (default: none)').default(false),
});

const webSite = z.strictObject({
  server_name: hostname(),
  aliases: list(hostname()).default([]).meta({ description: 'other names the site answers to' }),
  root: textField('document root in the guest; its content comes from [files]'),
  tls: bool('also serve HTTPS with a self-signed certificate made at build time').default(false),
});

const dnsZone = z.strictObject({
  zone: hostname().meta({ description: 'the zone\'s domain, e.g. lab.example' }),
  ttl: int(60, 604800, 'default TTL of the records, seconds').default(3600),
  ns: textField('the name server\'s name in the zone (a label, or a name ending in a dot); default: the hostname').optional(),
  email: textField('the zone contact (SOA), e.g. hostmaster@lab.example; default: hostmaster@ZONE').optional(),
  records: z.record(z.string(), list(textField())).default({}).meta({
    description: 'NAME = TYPE VALUE (A, AAAA, CNAME, MX PREF HOST, TXT, NS); @ is the zone itself; several for one name: a list',
  }),
});

/** Keys of [dns] itself; every subsection is a zone. */
const dnsSection = z.object({
  forwarders: list(ipv4()).default([]).meta({ description: 'servers asked for names outside the zones' }),
}).catchall(dnsZone);

/** A [dhcp] subsection is named after the NIC of [network] eths it serves. */
const dhcpScope = z.strictObject({
  range: textField('first - last address handed out, e.g. 10.0.1.100 - 10.0.1.200'),
  gateway: ipv4('router handed out; default: none').optional(),
  dns: list(ipv4()).default([]).meta({ description: 'DNS servers handed out' }),
  domain: hostname().optional().meta({ description: 'domain name handed out' }),
  lease: int(60, 31_536_000, 'lease time, seconds').default(3600),
  hosts: z.record(z.string(), list(textField())).default({}).meta({ description: 'fixed addresses: NAME = MAC, ADDRESS' }),
});

const routerSection = z.strictObject({
  forward: list(textField()).default([]).meta({ description: 'NICs to route between; default: every NIC' }),
  nat: textField('NIC to masquerade out of (NAT), e.g. eth0').optional(),
});

const database = z.strictObject({
  name: textField('database name; default: the subsection\'s name').optional(),
  user: textField('user that owns the database'),
  password: textField('that user\'s password'),
});

/** Keys of [database] itself; every subsection is a database. */
const databaseSection = z.object({
  engine: choice(DATABASE_ENGINES, 'mariadb or postgresql').default('mariadb'),
}).catchall(database);

/** The sections, keyed as the config file names them; a service section is absent unless the file has it. */
export const provisionSections = {
  files: z.record(z.string(), fileEntry).default({}),
  scripts: z.record(z.string(), scriptEntry).default({}),
  web: z.record(z.string(), webSite).optional(),
  dns: dnsSection.optional(),
  dhcp: z.record(z.string(), dhcpScope).optional(),
  router: routerSection.optional(),
  database: databaseSection.optional(),
};

/** [section, key] of every multi-line value: keys of a section's items marked MULTI_LINE in the model. */
export const MULTI_LINE_FIELDS: ReadonlyArray<readonly [section: string, key: string]> = Object.entries(provisionSections).flatMap(([section, schema]) => {
  const items = schema.unwrap();
  if (!(items instanceof z.ZodRecord) || !(items.valueType instanceof z.ZodObject)) return [];
  return Object.entries(items.valueType.shape as Record<string, z.ZodType>)
    .filter(([, field]) => (field instanceof z.ZodOptional ? field.unwrap() as z.ZodType : field).meta()?.contentMediaType === MULTI_LINE.contentMediaType)
    .map(([key]) => [section, key] as const);
});

export type FileEntry = z.output<typeof fileEntry>;
export type ScriptEntry = z.output<typeof scriptEntry>;
export type WebSite = z.output<typeof webSite>;
export type DnsZone = z.output<typeof dnsZone>;
export type DhcpScope = z.output<typeof dhcpScope>;
export type DatabaseEntry = z.output<typeof database>;
