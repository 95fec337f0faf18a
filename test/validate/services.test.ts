import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import type { Diagnostic } from '../../src/diagnostics.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const catalogs = loadCatalogs({ env: {} });

/** A valid Debian 12 router: eth0 192.0.2.2/24 out, eth1 10.0.1.1/24 in; sections follow on line BASE_LINES + 1. */
const LINUX_BASE = [
  '[hardware]',
  '    os = debian12-64',
  '    [[eths]]',
  '        [[[eth0]]]',
  '            type = nat',
  '        [[[eth1]]]',
  '            type = host-only',
  '[config]',
  '    root_passwd = change-me',
  '    hostname = gw',
  '[network]',
  '    [[eths]]',
  '        [[[eth0]]]',
  '            type = static',
  '            address = 192.0.2.2',
  '            network = 24',
  '            gateway = 192.0.2.1',
  '        [[[eth1]]]',
  '            type = static',
  '            address = 10.0.1.1',
  '            network = 24',
];

const WINDOWS_BASE = [
  '[hardware]',
  '    os = windows2022srv-64',
  '    [[hdds]]',
  '        [[[hdd0]]]',
  '            size = 40GB',
  '            [[[[partitions]]]]',
  '                [[[[[system]]]]]',
  '                    fs = ntfs',
  '    [[eths]]',
  '        [[[eth0]]]',
  '            type = nat',
  '[config]',
  '    hostname = srv1',
  '    root_passwd = Change-me-1',
  '[network]',
  '    [[eths]]',
  '        [[[eth0]]]',
  '            type = static',
  '            address = 10.0.1.1',
  '            network = 24',
];

const machine = (base: readonly string[], section: string): string => [...base, ...section.split('\n'), ''].join('\n');

interface Case {
  name: string;
  windows?: boolean;
  /** Another base config than LINUX_BASE or WINDOWS_BASE. */
  base?: readonly string[];
  /** The section text; its first line is line 1 of `at`. */
  section: string;
  code: string;
  /** Line within the section text, and column, of the one diagnostic with `code`. */
  at: [line: number, column: number];
  message: RegExp;
  hint?: RegExp;
  severity?: 'error' | 'warning';
}

/** A site's content, so [web] cases have a root that exists. */
const SITE = '[files]\n    [[site]]\n        path = /srv/www/lab\n        source = site';

const CASES: Case[] = [
  // [files]
  { name: 'a relative file path', section: '[files]\n    [[a]]\n        path = etc/motd\n        content = hi', code: 'CFG_FILE_PATH', at: [3, 16], message: /must be absolute/, hint: /\/etc\/motd/ },
  { name: 'a file path with ..', section: '[files]\n    [[a]]\n        path = /etc/../root/x\n        content = hi', code: 'CFG_FILE_PATH', at: [3, 16], message: /'\.\.'/ },
  { name: 'source and content both', section: '[files]\n    [[a]]\n        path = /etc/motd\n        source = motd\n        content = hi', code: 'CFG_FILE_SOURCE', at: [5, 19], message: /both source and content/, hint: /not both/ },
  { name: 'neither source nor content', section: '[files]\n    [[a]]\n        path = /etc/motd', code: 'CFG_FILE_SOURCE', at: [2, 7], message: /neither source nor content/, hint: /source = NAME/ },
  { name: 'a mode that is not octal', section: '[files]\n    [[a]]\n        path = /etc/motd\n        content = hi\n        mode = 0968', code: 'CFG_BAD_VALUE', at: [5, 16], message: /mode/ },
  { name: 'an owner that is no user name', section: '[files]\n    [[a]]\n        path = /etc/motd\n        content = hi\n        owner = Www-Data', code: 'CFG_FILE_OWNER', at: [5, 17], message: /not a valid user name/, hint: /www-data/ },
  { name: 'a group that is no group name', section: '[files]\n    [[a]]\n        path = /etc/motd\n        content = hi\n        group = 1adm', code: 'CFG_FILE_OWNER', at: [5, 17], message: /starts with a digit/ },
  { name: 'two entries for one path', section: '[files]\n    [[a]]\n        path = /etc/motd\n        content = hi\n    [[b]]\n        path = /etc/motd/\n        content = ho', code: 'CFG_FILE_DUPLICATE', at: [6, 16], message: /already written by \[\[a\]\]/ },
  { name: 'a Linux path on Windows', windows: true, section: '[files]\n    [[a]]\n        path = /srv/x\n        content = hi', code: 'CFG_FILE_PATH', at: [3, 16], message: /not an absolute Windows path/, hint: /C:\\/ },
  // [scripts]
  { name: 'a script with run and source', section: '[scripts]\n    [[a]]\n        run = true\n        source = a.sh', code: 'CFG_SCRIPT_SOURCE', at: [4, 18], message: /both run and source/ },
  { name: 'a script with neither run nor source', section: '[scripts]\n    [[a]]\n        when = build', code: 'CFG_SCRIPT_SOURCE', at: [2, 7], message: /neither run nor source/, hint: /run = / },
  { name: 'network on a first-boot script', section: '[scripts]\n    [[a]]\n        when = first-boot\n        run = true\n        network = 1', code: 'CFG_SCRIPT_NETWORK', at: [5, 19], message: /build scripts only/, hint: /when = build/ },
  { name: 'a script time that does not exist', section: '[scripts]\n    [[a]]\n        when = boot\n        run = true', code: 'CFG_BAD_CHOICE', at: [3, 16], message: /not a valid when/, hint: /first-boot/ },
  // [web]
  { name: 'a site whose document root is missing', section: '[web]\n    [[lab]]\n        server_name = www.lab.example\n        root = /srv/www/other', code: 'CFG_WEB_ROOT', at: [4, 16], message: /document root \/srv\/www\/other of site \[\[lab\]\] is missing/, hint: /path = \/srv\/www\/other/ },
  { name: 'a relative document root', section: `${SITE}\n[web]\n    [[lab]]\n        server_name = www.lab.example\n        root = srv/www/lab`, code: 'CFG_WEB_ROOT', at: [8, 16], message: /must be absolute/ },
  { name: 'one name for two sites', section: `${SITE}\n[web]\n    [[a]]\n        server_name = www.lab.example\n        root = /srv/www/lab\n    [[b]]\n        server_name = lab.example\n        aliases = x.lab.example, WWW.lab.example\n        root = /srv/www/lab/b`, code: 'CFG_WEB_NAME', at: [11, 34], message: /already a name of site \[\[a\]\]/ },
  // [dns]
  { name: 'a record outside its zone', section: '[dns]\n    [[lab]]\n        zone = lab.example\n        [[[records]]]\n            gw = A 10.0.1.1\n            www.other.example. = A 10.0.1.1', code: 'CFG_DNS_OUTSIDE_ZONE', at: [6, 13], message: /www\.other\.example is outside zone lab\.example/, hint: /a label/ },
  { name: 'a record that does not parse, at its list item', section: '[dns]\n    [[lab]]\n        zone = lab.example\n        [[[records]]]\n            gw = A 10.0.1.1, A 10.0.1.300', code: 'CFG_DNS_RECORD', at: [5, 30], message: /an A record needs an IPv4 address/, hint: /A 10\.0\.1\.10/ },
  { name: 'a record type vmgen does not write', section: '[dns]\n    [[lab]]\n        zone = lab.example\n        [[[records]]]\n            gw = A 10.0.1.1\n            srv = SRV 0 5 80 gw', code: 'CFG_DNS_RECORD', at: [6, 19], message: /unknown record type 'SRV'/, hint: /CNAME/ },
  { name: 'an MX without a preference', section: '[dns]\n    [[lab]]\n        zone = lab.example\n        [[[records]]]\n            gw = A 10.0.1.1\n            @ = MX mail', code: 'CFG_DNS_RECORD', at: [6, 17], message: /preference and a host/, hint: /MX 10 mail/ },
  { name: 'a CNAME beside another record', section: '[dns]\n    [[lab]]\n        zone = lab.example\n        [[[records]]]\n            gw = A 10.0.1.1\n            www = A 10.0.1.1\n            www.lab.example. = CNAME gw', code: 'CFG_DNS_CNAME', at: [7, 32], message: /a CNAME and a A record/ },
  { name: 'a CNAME at the zone itself', section: '[dns]\n    [[lab]]\n        zone = lab.example\n        [[[records]]]\n            gw = A 10.0.1.1\n            @ = CNAME gw', code: 'CFG_DNS_CNAME', at: [6, 17], message: /cannot be a CNAME/ },
  { name: 'one zone twice', section: '[dns]\n    [[a]]\n        zone = lab.example\n        [[[records]]]\n            gw = A 10.0.1.1\n    [[b]]\n        zone = LAB.Example\n        [[[records]]]\n            gw = A 10.0.1.1', code: 'CFG_DNS_ZONE', at: [7, 16], message: /already served by \[\[a\]\]/ },
  { name: 'a name server without an address', section: '[dns]\n    [[lab]]\n        zone = lab.example\n        ns = ns1\n        [[[records]]]\n            gw = A 10.0.1.1', code: 'CFG_DNS_NS', at: [4, 14], message: /ns1\.lab\.example has no A or AAAA record/, hint: /ns1 = A ADDRESS/ },
  { name: 'a name server that is an alias', section: '[dns]\n    [[lab]]\n        zone = lab.example\n        [[[records]]]\n            gw = CNAME www\n            www = A 10.0.1.1', code: 'CFG_DNS_NS', at: [3, 16], message: /gw\.lab\.example is a CNAME/, hint: /A record instead/ },
  { name: 'a target the zone does not define', severity: 'warning', section: '[dns]\n    [[lab]]\n        zone = lab.example\n        [[[records]]]\n            gw = A 10.0.1.1\n            @ = MX 10 mial', code: 'CFG_DNS_TARGET', at: [6, 17], message: /MX mial points to mial\.lab\.example, which zone lab\.example does not define/, hint: /mial = A ADDRESS/ },
  { name: 'a contact that is no address', section: '[dns]\n    [[lab]]\n        zone = lab.example\n        email = hostmaster at lab\n        [[[records]]]\n            gw = A 10.0.1.1', code: 'CFG_DNS_EMAIL', at: [4, 17], message: /not a contact address/, hint: /hostmaster@lab\.example/ },
  { name: 'a forwarder that is no address', section: '[dns]\n    forwarders = 192.0.2.300', code: 'CFG_BAD_VALUE', at: [2, 18], message: /forwarders/ },
  // [dhcp]
  { name: 'a scope named after no NIC', section: '[dhcp]\n    [[etth1]]\n        range = 10.0.1.100 - 10.0.1.199', code: 'CFG_DHCP_NIC', at: [2, 7], message: /not a NIC of \[network\] eths/, hint: /did you mean 'eth1'/ },
  { name: 'a range outside the NIC\'s subnet', section: '[dhcp]\n    [[eth1]]\n        range = 10.0.2.100 - 10.0.2.199', code: 'CFG_DHCP_RANGE', at: [3, 17], message: /not inside eth1's subnet 10\.0\.1\.0\/24/ },
  { name: 'a range with the broadcast address', section: '[dhcp]\n    [[eth1]]\n        range = 10.0.1.100 - 10.0.1.255', code: 'CFG_DHCP_RANGE', at: [3, 17], message: /not inside/, hint: /leaving out 10\.0\.1\.0 and 10\.0\.1\.255/ },
  { name: 'a range holding the server\'s own address', section: '[dhcp]\n    [[eth1]]\n        range = 10.0.1.1 - 10.0.1.99', code: 'CFG_DHCP_RANGE', at: [3, 17], message: /own address 10\.0\.1\.1/ },
  { name: 'a range that does not parse', section: '[dhcp]\n    [[eth1]]\n        range = 10.0.1.100 to 10.0.1.199', code: 'CFG_DHCP_RANGE', at: [3, 17], message: /not an address range/, hint: /FIRST - LAST/ },
  { name: 'a gateway outside the subnet', section: '[dhcp]\n    [[eth1]]\n        range = 10.0.1.100 - 10.0.1.199\n        gateway = 192.0.2.1', code: 'CFG_DHCP_GATEWAY', at: [4, 19], message: /outside eth1's subnet/, hint: /10\.0\.1\.1/ },
  { name: 'a fixed host inside the range', section: '[dhcp]\n    [[eth1]]\n        range = 10.0.1.100 - 10.0.1.199\n        [[[hosts]]]\n            printer = 52:54:00:00:01:50, 10.0.1.150', code: 'CFG_DHCP_HOST', at: [5, 42], message: /lies in the range/ },
  { name: 'a fixed host with a bad MAC', section: '[dhcp]\n    [[eth1]]\n        range = 10.0.1.100 - 10.0.1.199\n        [[[hosts]]]\n            printer = 52:54:00:00:01, 10.0.1.50', code: 'CFG_DHCP_HOST', at: [5, 23], message: /MAC|address/ },
  { name: 'one MAC twice', section: '[dhcp]\n    [[eth1]]\n        range = 10.0.1.100 - 10.0.1.199\n        [[[hosts]]]\n            a = 52:54:00:00:01:50, 10.0.1.50\n            b = 52:54:00:00:01:50, 10.0.1.51', code: 'CFG_DHCP_HOST', at: [6, 17], message: /already has a fixed address, as a/ },
  { name: 'a scope on a NIC without a static address', base: [...LINUX_BASE.slice(0, 18), '            type = dhcp'], section: '[dhcp]\n    [[eth1]]\n        range = 10.0.1.100 - 10.0.1.199', code: 'CFG_DHCP_NIC', at: [2, 7], message: /no static address/ },
  // [router]
  { name: 'forwarding a NIC that does not exist', section: '[router]\n    forward = eth1, eth2\n    nat = eth0', code: 'CFG_ROUTER_NIC', at: [2, 21], message: /'eth2' is not a NIC/ },
  { name: 'NAT out of a NIC that does not exist', section: '[router]\n    forward = eth1\n    nat = et0', code: 'CFG_ROUTER_NIC', at: [3, 11], message: /'et0' is not a NIC/, hint: /did you mean 'eth0'/ },
  { name: 'the NAT NIC also forwarded', section: '[router]\n    forward = eth0, eth1\n    nat = eth0', code: 'CFG_ROUTER_NAT', at: [2, 15], message: /eth0 is the NAT NIC/ },
  { name: 'a router through one NIC', section: '[router]\n    forward = eth1', code: 'CFG_ROUTER_NICS', at: [1, 2], message: /one NIC only/ },
  // [database]
  { name: 'a database name SQL would need quoted', section: '[database]\n    [[app]]\n        name = my-app\n        user = app\n        password = secret', code: 'CFG_DB_NAME', at: [3, 16], message: /'my-app' is not a database name/, hint: /letters, digits and '_'/ },
  { name: 'a user name SQL would need quoted', section: '[database]\n    [[app]]\n        user = "app user"\n        password = secret', code: 'CFG_DB_USER', at: [3, 16], message: /not a user name/ },
  { name: 'the server\'s own administrator', section: '[database]\n    engine = postgresql\n    [[app]]\n        user = postgres\n        password = secret', code: 'CFG_DB_USER', at: [4, 16], message: /postgresql's own administrator/ },
  { name: 'one database twice', section: '[database]\n    [[app]]\n        user = app\n        password = secret\n    [[other]]\n        name = app\n        user = app\n        password = secret', code: 'CFG_DB_DUPLICATE', at: [6, 16], message: /already defined in \[\[app\]\]/ },
  { name: 'a password with a control character', section: '[database]\n    [[app]]\n        user = app\n        password = "a\tb"', code: 'CFG_LINE_BREAK', at: [4, 20], message: /tab|control|U\+0009/i },
  // Windows
  { name: 'a router on Windows', windows: true, section: '[router]\n    nat = eth0', code: 'CFG_SERVICE_WINDOWS', at: [1, 2], message: /\[router\] is not supported for Windows/, hint: /Linux guest/ },
  { name: 'a database on Windows', windows: true, section: '[database]\n    [[app]]\n        user = app\n        password = secret', code: 'CFG_SERVICE_WINDOWS', at: [1, 2], message: /\[database\] is not supported for Windows/ },
];

const baseOf = (c: Case): readonly string[] => c.base ?? (c.windows ? WINDOWS_BASE : LINUX_BASE);

function diagnose(c: Case): Diagnostic[] {
  return loadConfig(machine(baseOf(c), c.section), { catalogs }).diagnostics;
}

describe('service sections: malformed values at FILE:LINE:COL with hints', () => {
  it('the bases are valid', () => {
    for (const base of [LINUX_BASE, WINDOWS_BASE]) {
      const errors = loadConfig(machine(base, ''), { catalogs }).diagnostics.filter((d) => d.severity === 'error');
      assert.deepEqual(errors, []);
    }
  });

  it('has the cases the issue asks for', () => {
    assert.ok(CASES.length >= 20, `${CASES.length} cases, want at least 20`);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are unique');
  });

  for (const c of CASES) {
    it(c.name, () => {
      const all = diagnose(c);
      const offset = baseOf(c).length;
      const found = all.filter((d) => d.code === c.code);
      assert.equal(found.length, 1, `one ${c.code}, got: ${JSON.stringify(all)}`);
      const d = found[0]!;
      assert.equal(d.severity, c.severity ?? 'error');
      assert.equal(`${d.line}:${d.column}`, `${offset + c.at[0]}:${c.at[1]}`, `position of ${JSON.stringify(d)}`);
      assert.match(d.message, c.message);
      if (c.hint) assert.match(d.hint ?? '', c.hint);
      else assert.ok(c.code.startsWith('CFG_BAD') || c.code === 'CFG_LINE_BREAK' || d.hint !== undefined, `${c.code} carries a hint: ${JSON.stringify(d)}`);
    });
  }
});

describe('service sections: what is valid', () => {
  it('the lab router fixture loads with no diagnostics', () => {
    const text = readFileSync(path.join(ROOT, 'test/fixtures/services/lab-router.conf'), 'utf8');
    const r = loadConfig(text, { catalogs });
    assert.deepEqual(r.diagnostics, []);
    assert.ok(r.config, 'the fixture gives a config');
  });

  it('the README\'s example of each section validates, all together on the lab router\'s machine', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('### Files, scripts and services');
    assert.notEqual(start, -1, 'the README has the section');
    const part = readme.slice(start, readme.indexOf('\n## ', start));
    const blocks = [...part.matchAll(/```ini\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.equal(blocks.length, 7, 'one example per section');
    const lab = readFileSync(path.join(ROOT, 'test/fixtures/services/lab-router.conf'), 'utf8');
    const r = loadConfig(lab.slice(0, lab.indexOf('[files]')) + blocks.join(''), { catalogs });
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(Object.keys(r.config?.database ?? {}), ['engine', 'wiki']);
  });

  it('a document root holding a [files] path is not missing', () => {
    const section = '[files]\n    [[index]]\n        path = /srv/www/lab/index.html\n        content = hi\n[web]\n    [[lab]]\n        server_name = lab.example\n        root = /srv/www/lab/';
    assert.deepEqual(loadConfig(machine(LINUX_BASE, section), { catalogs }).diagnostics, []);
  });

  it('the machine as name server needs no record of its own: the generators add one from its address', () => {
    const section = '[dns]\n    [[lab]]\n        zone = lab.example\n        [[[records]]]\n            www = CNAME gw.lab.example.\n            @ = MX 10 mail.other.example.';
    assert.deepEqual(loadConfig(machine(LINUX_BASE, section), { catalogs }).diagnostics, []);
  });

  it('but it needs a static address for that', () => {
    const base = LINUX_BASE.slice(0, 11);
    const r = loadConfig(machine(base, '[dns]\n    [[lab]]\n        zone = lab.example'), { catalogs });
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.line]), [['CFG_DNS_NS', 14]]);
    assert.match(r.diagnostics[0]!.message, /no static address/);
  });

  it('a password with quotes and backslashes is the generators\' to quote, not an error', () => {
    const section = '[database]\n    engine = mariadb\n    [[app]]\n        user = app\n        password = "it\'s a \\\\ test; drop"';
    assert.deepEqual(loadConfig(machine(LINUX_BASE, section), { catalogs }).diagnostics, []);
  });

  it('a service whose server the OS cannot install is an error at its section', () => {
    const apps = catalogs.apps.map((a) => (a.name === 'dhcp-server' ? { ...a, apt: { unavailable: 'not packaged for this test' } } : a));
    const d = loadConfig(machine(LINUX_BASE, '[dhcp]\n    [[eth1]]\n        range = 10.0.1.100 - 10.0.1.199'), { catalogs: { ...catalogs, apps } as typeof catalogs }).diagnostics;
    assert.deepEqual(d.map((x) => [x.code, x.line, x.column]), [['CFG_APP_UNAVAILABLE', LINUX_BASE.length + 1, 2]]);
    assert.match(d[0]!.message, /\[dhcp\] needs dhcp-server: .*not packaged for this test/);
  });

  it('Windows takes DNS, DHCP and web sites at Windows paths', () => {
    const section = '[files]\n    [[site]]\n        path = C:\\inetpub\\lab\n        content = hi\n[web]\n    [[lab]]\n        server_name = lab.example\n        root = c:\\inetpub\\lab\\\n'
      + '[dns]\n    [[lab]]\n        zone = lab.example\n        [[[records]]]\n            srv1 = A 10.0.1.1\n[dhcp]\n    [[eth0]]\n        range = 10.0.1.100 - 10.0.1.199';
    const errors = loadConfig(machine(WINDOWS_BASE, section), { catalogs }).diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(errors, []);
  });
});
