import { isWindows } from '../catalog/families.js';
import { resolveApp } from '../catalog/load.js';
import { resolveNics } from '../config/resolve.js';
import { SERVICE_APPS, type DatabaseEngine, type ResolvedServices, type ServiceName } from '../config/resolve-services.js';
import { absoluteName, checkZoneName, inZone, parseDnsRecord, parseFixedHost, parseRange, type DnsRecord } from '../config/service-values.js';
import * as v from '../config/validators.js';
import type { VmConfig } from '../config/model.js';
import type { SemanticContext } from './context.js';

/*
 * What the model of [files], [scripts] and the service sections cannot see alone: values that
 * refer to each other (a site's root to [files], a DHCP scope to its NIC, a record to its zone) and
 * names the generated files take verbatim. Each problem is reported at the value a person would
 * fix, with a hint, because the web form shows these messages beside its fields as the user types.
 */

type Path = (string | number)[];

export function checkServices(ctx: SemanticContext): void {
  checkFiles(ctx);
  checkScripts(ctx);
  checkWeb(ctx);
  checkDns(ctx);
  checkDhcp(ctx);
  checkRouter(ctx);
  checkDatabase(ctx);
  checkWindowsServices(ctx);
  checkImpliedApps(ctx);
}

/** A path as the guest compares it: Windows ignores case and takes either slash; no trailing separator. */
function pathForm(windows: boolean, p: string): string {
  const s = windows ? p.replace(/\//g, '\\').toLowerCase() : p;
  return s.length > 1 ? s.replace(/[\\/]+$/, '') : s;
}

function isUnder(windows: boolean, inner: string, outer: string): boolean {
  const a = pathForm(windows, inner);
  const b = pathForm(windows, outer);
  const sep = windows ? '\\' : '/';
  return a === b || a.startsWith(b.endsWith(sep) ? b : `${b}${sep}`);
}

function checkFiles(ctx: SemanticContext): void {
  const { config, os, report } = ctx;
  const windows = isWindows(os);
  const seen = new Map<string, string>();
  for (const [id, f] of Object.entries(config.files)) {
    const at = ['files', id];
    const p = windows ? v.checkWindowsPath(f.path) : v.checkGuestAbsolutePath(f.path);
    if (!p.ok) report([...at, 'path'], 'error', 'CFG_FILE_PATH', p.message, p.hint ?? (windows ? 'write it like C:\\inetpub\\lab' : 'write it like /srv/www/lab'));
    else {
      const key = pathForm(windows, f.path);
      const prior = seen.get(key);
      if (prior !== undefined) report([...at, 'path'], 'error', 'CFG_FILE_DUPLICATE', `${f.path} is already written by [[${prior}]]`, 'give each path one [files] entry; a directory source copies everything under it');
      else seen.set(key, id);
    }
    if (f.source !== undefined && f.content !== undefined) {
      report([...at, 'content'], 'error', 'CFG_FILE_SOURCE', `[[${id}]] has both source and content`, 'keep source (a file beside the config) or content (the text inline), not both');
    } else if (f.source === undefined && f.content === undefined) {
      report(at, 'error', 'CFG_FILE_SOURCE', `[[${id}]] has neither source nor content`, "add 'source = NAME' (a file or directory beside the config) or 'content = …' (the text inline)", 'key');
    }
    if (windows) {
      // The owner is given by icacls, and mode and group are warned about, in the Windows family's rules.
      continue;
    }
    const owner = v.checkPosixName(f.owner, 'user');
    if (!owner.ok) report([...at, 'owner'], 'error', 'CFG_FILE_OWNER', owner.message, owner.hint ?? 'a user of the guest, e.g. root or www-data');
    if (f.group !== undefined) {
      const group = v.checkPosixName(f.group, 'group');
      if (!group.ok) report([...at, 'group'], 'error', 'CFG_FILE_OWNER', group.message, group.hint ?? 'a group of the guest, e.g. root or www-data');
    }
  }
}

function checkScripts({ config, report }: SemanticContext): void {
  for (const [id, s] of Object.entries(config.scripts)) {
    const at = ['scripts', id];
    if (s.run !== undefined && s.source !== undefined) {
      report([...at, 'source'], 'error', 'CFG_SCRIPT_SOURCE', `script [[${id}]] has both run and source`, 'keep run (the commands inline) or source (a script file beside the config), not both');
    } else if (s.run === undefined && s.source === undefined) {
      report(at, 'error', 'CFG_SCRIPT_SOURCE', `script [[${id}]] has neither run nor source`, "add 'run = …' (triple quotes for several lines) or 'source = NAME' (a script beside the config)", 'key');
    }
    if (s.when === 'first-boot' && s.network) {
      report([...at, 'network'], 'error', 'CFG_SCRIPT_NETWORK', 'network applies to build scripts only: a first-boot script runs in the started guest, with its network',
        "remove 'network = 1', or make it 'when = build'");
    }
  }
}

/**
 * A site's root must hold something: it is a [files] path, lies under one (a directory copied
 * there), or holds one (an index.html written into it). Otherwise the server answers 403 or 404.
 */
function checkWeb({ config, os, report }: SemanticContext): void {
  if (config.web === undefined) return;
  const windows = isWindows(os);
  const filePaths = Object.values(config.files).map((f) => f.path);
  const names = new Map<string, string>();
  for (const [id, site] of Object.entries(config.web)) {
    const at = ['web', id];
    const root = windows ? v.checkWindowsPath(site.root) : v.checkGuestAbsolutePath(site.root);
    if (!root.ok) report([...at, 'root'], 'error', 'CFG_WEB_ROOT', root.message, root.hint ?? 'the document root is an absolute path in the guest, e.g. /srv/www/lab');
    else if (!filePaths.some((p) => isUnder(windows, site.root, p) || isUnder(windows, p, site.root))) {
      report([...at, 'root'], 'error', 'CFG_WEB_ROOT', `the document root ${site.root} of site [[${id}]] is missing: no [files] entry puts content there`,
        `add a [files] entry with path = ${site.root} and source = a directory beside the config`);
    }
    const own: Array<[Path, string]> = [[[...at, 'server_name'], site.server_name], ...site.aliases.map((a, i): [Path, string] => [[...at, 'aliases', i], a])];
    for (const [path, name] of own) {
      const key = name.toLowerCase().replace(/\.$/, '');
      const prior = names.get(key);
      if (prior !== undefined) report(path, 'error', 'CFG_WEB_NAME', `${name} is already a name of site [[${prior}]]`, 'a name can lead to one site only: remove it here or there');
      else names.set(key, id);
    }
  }
}

interface ParsedRecord {
  record: DnsRecord;
  fqdn: string;
  path: Path;
}

function checkDns(ctx: SemanticContext): void {
  const { config, report } = ctx;
  if (config.dns === undefined) return;
  const { forwarders: _forwarders, ...zones } = config.dns;
  const zoneNames = new Map<string, string>();
  for (const [id, z] of Object.entries(zones)) {
    const at = ['dns', id];
    const zone = z.zone.toLowerCase().replace(/\.$/, '');
    const prior = zoneNames.get(zone);
    if (prior !== undefined) report([...at, 'zone'], 'error', 'CFG_DNS_ZONE', `zone ${zone} is already served by [[${prior}]]`, 'put all records of a zone in one subsection');
    else zoneNames.set(zone, id);
    const records: ParsedRecord[] = [];
    for (const [name, values] of Object.entries(z.records)) {
      const owner = checkZoneName(name);
      if (!owner.ok) {
        report([...at, 'records', name], 'error', 'CFG_DNS_NAME', owner.message, owner.hint, 'key');
        continue;
      }
      const fqdn = absoluteName(name, zone);
      if (!inZone(fqdn, zone)) {
        report([...at, 'records', name], 'error', 'CFG_DNS_OUTSIDE_ZONE', `${fqdn} is outside zone ${zone}`,
          `a zone holds its own names only: write a label (www) for www.${zone}, or serve ${fqdn} from a zone of its own`, 'key');
        continue;
      }
      values.forEach((text, i) => {
        const r = parseDnsRecord(name, text);
        if (!r.ok) report([...at, 'records', name, i], 'error', 'CFG_DNS_RECORD', r.message, r.hint);
        else records.push({ record: r.value, fqdn, path: [...at, 'records', name, i] });
      });
    }
    checkCnames(ctx, zone, records);
    checkTargets(ctx, zone, records, nameServerOf(config, z.ns, zone));
    checkNameServer(ctx, id, zone, records);
    if (z.email !== undefined && !/^[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.?$/.test(z.email)) {
      report([...at, 'email'], 'error', 'CFG_DNS_EMAIL', `${v.quote(z.email)} is not a contact address`, `write it like hostmaster@${zone}`);
    }
  }
}

/** A CNAME makes its name an alias: no other record may share the name, and the zone's own name has SOA and NS. */
function checkCnames({ report }: SemanticContext, zone: string, records: readonly ParsedRecord[]): void {
  for (const r of records) {
    if (r.record.type !== 'CNAME') continue;
    if (r.fqdn === zone) {
      report(r.path, 'error', 'CFG_DNS_CNAME', `the zone's own name ${zone} cannot be a CNAME: it has the zone's SOA and NS records`, 'use A/AAAA records for @');
      continue;
    }
    const others = records.filter((o) => o !== r && o.fqdn === r.fqdn);
    if (others.length > 0) {
      report(r.path, 'error', 'CFG_DNS_CNAME', `${r.fqdn} has a CNAME and ${others.length === 1 ? `a ${others[0]!.record.type} record` : 'other records'}: a CNAME must be the name's only record`,
        'give the name its addresses directly, or keep the CNAME alone');
    }
  }
}

/** A CNAME, MX or NS target in the zone that the zone does not define answers NXDOMAIN: a typo, most likely. */
function checkTargets({ report }: SemanticContext, zone: string, records: readonly ParsedRecord[], ns: string): void {
  // The name server is defined even without a record: the generators add its address.
  const owners = new Set([...records.map((r) => r.fqdn), ns]);
  for (const r of records) {
    if (r.record.type !== 'CNAME' && r.record.type !== 'MX' && r.record.type !== 'NS') continue;
    const target = absoluteName(r.record.value, zone);
    if (inZone(target, zone) && !owners.has(target) && !target.startsWith('*')) {
      const label = target === zone ? '@' : target.slice(0, -(zone.length + 1));
      report(r.path, 'warning', 'CFG_DNS_TARGET', `${r.record.type} ${r.record.value} points to ${target}, which zone ${zone} does not define`,
        `add a record for it ('${label} = A ADDRESS'), or write a name outside the zone with a final dot`);
    }
  }
}

/**
 * The zone's name server needs an address when its name is in the zone. For the machine itself
 * (ns left out, or naming the machine's host name), the DNS generators add an A record from its
 * first static address, so that case only needs such an address.
 */
function checkNameServer(ctx: SemanticContext, id: string, zone: string, records: readonly ParsedRecord[]): void {
  const { config, report } = ctx;
  const z = config.dns![id]!;
  const at = ['dns', id];
  if (z.ns !== undefined) {
    const n = checkZoneName(z.ns);
    if (!n.ok) {
      report([...at, 'ns'], 'error', 'CFG_DNS_NS', n.message, n.hint);
      return;
    }
  }
  const hostname = hostnameOf(config);
  const self = absoluteName(hostname.split('.')[0]!, zone);
  const ns = nameServerOf(config, z.ns, zone);
  if (!inZone(ns, zone)) return;
  const where: Path = z.ns !== undefined ? [...at, 'ns'] : [...at, 'zone'];
  const label = ns === zone ? '@' : ns.slice(0, -(zone.length + 1));
  // An NS record must name a host, not an alias (RFC 2181 10.3); the glue vmgen adds would sit beside the CNAME too.
  if (records.some((r) => r.fqdn === ns && r.record.type === 'CNAME')) {
    report(where, 'error', 'CFG_DNS_NS', `the name server ${ns} is a CNAME: a zone's name server must be a host name with its own address`,
      `give ${label} an A record instead of the CNAME, or set ns to another name`);
    return;
  }
  if (records.some((r) => r.fqdn === ns && (r.record.type === 'A' || r.record.type === 'AAAA'))) return;
  const isSelf = ns === self || ns === hostname.toLowerCase().replace(/\.$/, '');
  if (!isSelf) {
    report(where, 'error', 'CFG_DNS_NS', `the name server ${ns} has no A or AAAA record in zone ${zone}`, `add '${label} = A ADDRESS' under [[[records]]]`);
  } else if (!resolveNics(config).some((n) => n.address !== undefined)) {
    report(where, 'error', 'CFG_DNS_NS', `the name server ${ns} is this machine, which has no static address to give it`,
      `add '${label} = A ADDRESS' under [[[records]]], or give a NIC a static address`);
  }
}

/** resolveSpec's host name: [config] hostname, else vm_id. */
const hostnameOf = (config: VmConfig): string => config.config.hostname ?? config.hardware.vm_id ?? 'vmgen';

/** The zone's name server as resolveProvision names it: ns, else the machine's host name, in the zone. */
const nameServerOf = (config: VmConfig, ns: string | undefined, zone: string): string => absoluteName(ns ?? hostnameOf(config).split('.')[0]!, zone);

function checkDhcp(ctx: SemanticContext): void {
  const { config, report } = ctx;
  if (config.dhcp === undefined) return;
  const nicNames = Object.keys(config.network.eths);
  const macs = new Map<string, string>();
  const fixed = new Map<string, string>();
  for (const [name, scope] of Object.entries(config.dhcp)) {
    const at = ['dhcp', name];
    const eth = config.network.eths[name];
    if (eth === undefined) {
      const guess = v.didYouMean(name, nicNames);
      report(at, 'error', 'CFG_DHCP_NIC', `[[${name}]] is not a NIC of [network] eths: a DHCP scope is named after the NIC it serves`,
        guess !== undefined ? `did you mean '${guess}'?` : nicNames.length > 0 ? `NICs: ${nicNames.join(', ')}` : 'add the NIC to [network] [[eths]] with a static address', 'key');
      continue;
    }
    if (eth.type !== 'static' || eth.address === undefined || eth.network === undefined) {
      report(at, 'error', 'CFG_DHCP_NIC', `${name} has no static address: a DHCP server needs one on the NIC it serves`, `set 'type = static', 'address' and 'network' in [network] [[eths]] [[[${name}]]]`, 'key');
      continue;
    }
    const own = ip4(eth.address);
    const prefix = eth.network;
    const net = v.networkAddress(own, prefix);
    const bcast = v.broadcastAddress(own, prefix);
    const subnet = `${v.formatIPv4(net)}/${prefix}`;
    const usable = (ip: number): boolean => v.ipInSubnet(ip, net, prefix) && (prefix >= 31 || (ip !== net && ip !== bcast));
    const range = parseRange(scope.range);
    let span: [number, number] | undefined;
    if (!range.ok) report([...at, 'range'], 'error', 'CFG_DHCP_RANGE', range.message, range.hint);
    else {
      const from = ip4(range.value.from);
      const to = ip4(range.value.to);
      if (!usable(from) || !usable(to)) {
        report([...at, 'range'], 'error', 'CFG_DHCP_RANGE', `the range ${scope.range} is not inside ${name}'s subnet ${subnet}`,
          `hand out host addresses of ${subnet}, leaving out ${v.formatIPv4(net)} and ${v.formatIPv4(bcast)}`);
      } else if (own >= from && own <= to) {
        report([...at, 'range'], 'error', 'CFG_DHCP_RANGE', `the range ${scope.range} holds ${name}'s own address ${eth.address}`, 'start the range after it, or end it before');
      } else span = [from, to];
    }
    if (scope.gateway !== undefined && !v.ipInSubnet(ip4(scope.gateway), net, prefix)) {
      report([...at, 'gateway'], 'error', 'CFG_DHCP_GATEWAY', `gateway ${scope.gateway} is outside ${name}'s subnet ${subnet}`,
        `clients reach their gateway directly: use an address of ${subnet}, e.g. ${eth.address}`);
    }
    for (const [host, items] of Object.entries(scope.hosts)) {
      const hp = [...at, 'hosts', host];
      const h = parseFixedHost(items);
      if (!h.ok) {
        report(hp, 'error', 'CFG_DHCP_HOST', h.message, h.hint);
        continue;
      }
      const ip = ip4(h.value.address);
      const addrPath = [...hp, 1];
      if (!usable(ip)) report(addrPath, 'error', 'CFG_DHCP_HOST', `${host}'s address ${h.value.address} is not a host address of ${name}'s subnet ${subnet}`, `give it an address of ${subnet}`);
      else if (ip === own) report(addrPath, 'error', 'CFG_DHCP_HOST', `${host}'s address ${h.value.address} is ${name}'s own`, 'give it another address');
      else if (span !== undefined && ip >= span[0] && ip <= span[1]) {
        report(addrPath, 'error', 'CFG_DHCP_HOST', `${host}'s address ${h.value.address} lies in the range ${scope.range}`, 'a fixed address goes outside the range, so no other client gets it');
      }
      const priorMac = macs.get(h.value.mac);
      if (priorMac !== undefined) report([...hp, 0], 'error', 'CFG_DHCP_HOST', `MAC ${h.value.mac} already has a fixed address, as ${priorMac}`, 'one reservation per MAC address');
      else macs.set(h.value.mac, host);
      const priorIp = fixed.get(h.value.address);
      if (priorIp !== undefined) report(addrPath, 'error', 'CFG_DHCP_HOST', `${h.value.address} is already the fixed address of ${priorIp}`, 'one host per fixed address');
      else fixed.set(h.value.address, host);
    }
  }
}

function checkRouter({ config, report }: SemanticContext): void {
  const router = config.router;
  if (router === undefined) return;
  const nics = resolveNics(config).map((n) => n.name);
  const unknown = (path: Path, name: string): void => {
    const guess = v.didYouMean(name, nics);
    report(path, 'error', 'CFG_ROUTER_NIC', `${v.quote(name)} is not a NIC of this machine`, guess !== undefined ? `did you mean '${guess}'?` : nics.length > 0 ? `NICs: ${nics.join(', ')}` : 'add NICs to [hardware] [[eths]]');
  };
  router.forward.forEach((name, i) => {
    if (!nics.includes(name)) unknown(['router', 'forward', i], name);
    else if (name === router.nat) {
      report(['router', 'forward', i], 'error', 'CFG_ROUTER_NAT', `${name} is the NAT NIC: traffic from the forwarded NICs leaves through it, so it is not one of them`,
        `remove ${name} from forward`);
    }
  });
  if (router.nat !== undefined && !nics.includes(router.nat)) unknown(['router', 'nat'], router.nat);
  const routed = new Set([...(router.forward.length > 0 ? router.forward : nics), ...(router.nat !== undefined ? [router.nat] : [])].filter((n) => nics.includes(n)));
  if (nics.length < 2 || routed.size < 2) {
    report(['router'], 'error', 'CFG_ROUTER_NICS', nics.length < 2 ? `a router needs two NICs at least; this machine has ${nics.length}` : 'the router routes through one NIC only',
      nics.length < 2 ? 'add a NIC to [hardware] [[eths]] and [network] [[eths]]' : 'name the NICs it forwards between in forward, and the one out in nat', 'key');
  }
}

/** MariaDB and PostgreSQL identifiers vmgen writes unquoted-safe: letters, digits, '_'. */
const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** Accounts the server's own administration uses: a config that re-created them would lock the admin out. */
const ADMIN_USERS: Record<DatabaseEngine, readonly string[]> = { mariadb: ['root', 'mysql', 'mariadb.sys'], postgresql: ['postgres'] };

function checkDatabase({ config, report }: SemanticContext): void {
  if (config.database === undefined) return;
  const { engine, ...dbs } = config.database;
  const names = new Map<string, string>();
  const passwords = new Map<string, { id: string; password: string }>();
  for (const [id, db] of Object.entries(dbs)) {
    const at = ['database', id];
    const name = db.name ?? id;
    const namePath = db.name !== undefined ? [...at, 'name'] : at;
    const nameAt = db.name !== undefined ? 'value' : 'key';
    if (!SQL_NAME.test(name)) {
      report(namePath, 'error', 'CFG_DB_NAME', `${v.quote(name)} is not a database name vmgen can create`, "letters, digits and '_', starting with a letter or '_', 63 at most", nameAt);
    } else {
      const prior = names.get(name.toLowerCase());
      if (prior !== undefined) report(namePath, 'error', 'CFG_DB_DUPLICATE', `database ${name} is already defined in [[${prior}]]`, 'give each database its own name', nameAt);
      else names.set(name.toLowerCase(), id);
    }
    if (!SQL_NAME.test(db.user)) {
      report([...at, 'user'], 'error', 'CFG_DB_USER', `${v.quote(db.user)} is not a user name vmgen can create`, "letters, digits and '_', starting with a letter or '_', 63 at most");
    } else if (ADMIN_USERS[engine].includes(db.user.toLowerCase())) {
      report([...at, 'user'], 'error', 'CFG_DB_USER', `${db.user} is ${engine}'s own administrator`, 'give the database a user of its own');
    } else {
      const prior = passwords.get(db.user);
      if (prior !== undefined && prior.password !== db.password) {
        report([...at, 'password'], 'error', 'CFG_DB_PASSWORD', `user ${db.user} already has another password in [[${prior.id}]]`, 'a user has one password: give the same one, or another user');
      } else passwords.set(db.user, { id, password: db.password });
    }
    // Quotes and backslashes are the generators' to escape; line breaks are refused by the one-line check.
    if (db.password === '') report([...at, 'password'], 'error', 'CFG_DB_PASSWORD', 'an empty password cannot log in over the network', 'give the user a password');
  }
}

/** Services the Windows family does not generate: DNS, DHCP and web sites are its roles; routing and databases are not. */
function checkWindowsServices({ config, os, report }: SemanticContext): void {
  if (!isWindows(os)) return;
  const unsupported: Array<[string, boolean, string]> = [
    ['router', config.router !== undefined, 'configure Routing and Remote Access by a first-boot script, or use a Linux guest as the router'],
    ['database', config.database !== undefined, 'install the database with a kit and a first-boot script, or use a Linux guest'],
  ];
  for (const [section, used, hint] of unsupported) {
    if (used) report([section], 'error', 'CFG_SERVICE_WINDOWS', `[${section}] is not supported for Windows guests`, hint, 'key');
  }
}

/** A service section implies its server's catalog app: the OS must have it, or the build would fail after validation. */
function checkImpliedApps({ config, os, catalogs, report }: SemanticContext): void {
  if (isWindows(os)) return;
  const present: ResolvedServices = {
    ...(config.web !== undefined ? { web: { sites: [] } } : {}),
    ...(config.dns !== undefined ? { dns: { forwarders: [], zones: [] } } : {}),
    ...(config.dhcp !== undefined ? { dhcp: { scopes: [] } } : {}),
    ...(config.router !== undefined ? { router: { forward: [] } } : {}),
    ...(config.database !== undefined ? { database: { engine: config.database.engine, databases: [] } } : {}),
  };
  for (const section of Object.keys(present) as ServiceName[]) {
    for (const app of SERVICE_APPS[section](present)) {
      const r = resolveApp(catalogs, app, os);
      if (!r.ok) report([section], 'error', 'CFG_APP_UNAVAILABLE', `[${section}] needs ${app}: ${r.reason}`, r.hint, 'key');
    }
  }
}

const ip4 = (s: string): number => {
  const r = v.parseIPv4(s);
  if (!r.ok) throw new Error(`internal: unvalidated address ${s}`);
  return r.value;
};
