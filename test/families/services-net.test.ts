import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { resolveSpec, type ResolvedSpec } from '../../src/config/resolve.js';
import type { ResolvedZone } from '../../src/config/resolve-services.js';
import { debianConfigurator } from '../../src/families/debian/configure.js';
import { DEBIAN_NET, hasMasquerade } from '../../src/families/debian/services/net.js';
import { renderKeaDhcp4 } from '../../src/families/linux/services/dhcp.js';
import { renderZoneFile, soaMailbox, zoneRecords, zoneSerial } from '../../src/families/linux/services/dns.js';
import { ROUTER_SYSCTL_FILE, routedNics } from '../../src/families/linux/services/router.js';
import { renderNftablesRuleset } from '../../src/families/linux/nftables.js';
import { redhatConfigurator } from '../../src/families/redhat/configure.js';
import { NAT_ZONE_FILE, ROUTER_POLICY_FILE } from '../../src/families/redhat/services/router.js';
import { REDHAT_NET } from '../../src/families/redhat/services/net.js';
import type { GuestContext, GuestFile, GuestPlan } from '../../src/families/types.js';
import { renderLxcConfig } from '../../src/targets/lxc/render.js';
import { renderCtidConf } from '../../src/targets/openvz/render.js';
import { loadConfig } from '../../src/validate/load.js';
import { run as runCli } from '../helpers/cli.js';
import { assertGolden, assertGoldenTree, guestPlanTree } from '../helpers/golden.js';
import { includesAll, show } from '../helpers/assert-values.js';

/*
 * The DNS, DHCP and router parts of a Linux guest (issue 15): golden files of the lab gateway for
 * both families, the rules the renderers keep, and the servers' own checkers run on the output
 * when this host has them (bind9-utils, kea-dhcp4-server, nftables: scripts/setup.sh).
 */

const catalogs = loadCatalogs({ env: {} });
const FIXTURE = fileURLToPath(new URL('../fixtures/services/lab-router.conf', import.meta.url));
const DEBIAN_OS = 'debian12-64';
const REDHAT_OS = 'fedora42-64';

/** The lab gateway of the services fixture, as a machine of another OS or target when asked. */
function labSpec(os = DEBIAN_OS, target = 'qemu', edit: (text: string) => string = (t) => t): ResolvedSpec {
  const text = edit(readFileSync(FIXTURE, 'utf8').replace(/^(\s*os = ).*$/m, `$1${os}`));
  const loaded = loadConfig(text, { catalogs });
  if (loaded.config === undefined) throw new Error(`the lab fixture does not load: ${JSON.stringify(loaded.diagnostics)}`);
  return resolveSpec(loaded.config, catalogs, { target, defaultMirror: 'http://mirror.example/debian' });
}

const guest = (spec: ResolvedSpec): GuestContext => ({ spec, nicOwner: 'guest' });
const target = (spec: ResolvedSpec): GuestContext => ({ spec, nicOwner: 'target' });

/** The files of a plan this part writes: DNS, DHCP, the router's sysctl and firewall, the NICs' zones. */
const NET_PATHS = [/^\/etc\/bind\//, /^\/etc\/named\.conf$/, /^\/var\/named\//, /^\/etc\/kea\//, /^\/etc\/sysctl\.d\//, /^\/etc\/nftables\.conf$/, /^\/etc\/firewalld\//, /^\/etc\/NetworkManager\/system-connections\//];
const NET_PROGRAMS = new Set(['named-checkconf']);

function netPart(plan: GuestPlan): GuestPlan {
  return {
    files: plan.files.filter((f) => NET_PATHS.some((p) => p.test(f.path))),
    links: [],
    commands: plan.commands.filter((c) => NET_PROGRAMS.has(c.argv[0] ?? '')),
  };
}

function fileOf(plan: GuestPlan, path: string): string {
  const f = plan.files.find((x) => x.path === path);
  assert.ok(f, `no ${path} in the plan (have: ${plan.files.map((x) => x.path).join(', ')})`);
  return f.content;
}

function zoneOf(spec: ResolvedSpec): ResolvedZone {
  const zone = spec.provision.services.dns?.zones[0];
  assert.ok(zone, `the spec has no zone: ${show(spec.provision.services)}`);
  return zone;
}

// ---------------------------------------------------------------------------------------------
// Golden files

describe('golden: the lab gateway\'s DNS, DHCP and router files', () => {
  it('Debian, a VM', () => assertGoldenTree('services/net-debian-vm', guestPlanTree(netPart(debianConfigurator.plan(guest(labSpec()))))));
  it('Debian, a container', () => assertGoldenTree('services/net-debian-container', guestPlanTree(netPart(debianConfigurator.plan(target(labSpec(DEBIAN_OS, 'lxc')))))));
  it('RedHat, a VM', () => assertGoldenTree('services/net-redhat-vm', guestPlanTree(netPart(redhatConfigurator.plan(guest(labSpec(REDHAT_OS)))))));
  it('RedHat, a container', () => assertGoldenTree('services/net-redhat-container', guestPlanTree(netPart(redhatConfigurator.plan(target(labSpec(REDHAT_OS, 'lxc')))))));
  it('the LXC config sets forwarding in the container', () => assertGolden('services/lxc-router/config', renderLxcConfig(labSpec(DEBIAN_OS, 'lxc'))));
});

// ---------------------------------------------------------------------------------------------
// DNS

describe('DNS zones', () => {
  it('write every record once, names absolute, after the SOA and the apex NS', () => {
    const text = renderZoneFile(zoneOf(labSpec()), '192.0.2.2');
    const records = text.split('\n').filter((l) => / IN /.test(l)).map((l) => l.replace(/\s+/g, ' ').trim());
    assert.deepEqual(records, [
      'lab.example. IN SOA gw.lab.example. hostmaster.lab.example. (',
      'lab.example. IN NS gw.lab.example.',
      'lab.example. IN A 10.0.1.1',
      'lab.example. IN MX 10 gw.lab.example.',
      'lab.example. IN TXT "v=spf1 -all"',
      'gw.lab.example. IN A 10.0.1.1',
      'www.lab.example. IN A 10.0.1.1',
      'www.lab.example. IN AAAA fd00:1::1',
      'mail.lab.example. IN CNAME gw.lab.example.',
    ]);
    assert.match(text, /^\$TTL 300$/m);
  });

  it('give the name server the machine\'s first static address when the zone has none for it', () => {
    const zone = { ...zoneOf(labSpec()), ns: 'ns1.lab.example' };
    const glue = zoneRecords(zone, '192.0.2.2').filter((r) => r.owner === 'ns1.lab.example');
    assert.deepEqual(glue, [{ owner: 'ns1.lab.example', type: 'A', rdata: '192.0.2.2' }]);
    assert.deepEqual(zoneRecords(zoneOf(labSpec()), '192.0.2.2').filter((r) => r.owner === 'gw.lab.example'), [{ owner: 'gw.lab.example', type: 'A', rdata: '10.0.1.1' }]);
    assert.throws(() => zoneRecords(zone, undefined), /ns1\.lab\.example .*no address/);
  });

  it('leave a name server outside the zone alone', () => {
    const zone = { ...zoneOf(labSpec()), ns: 'ns.other.example' };
    assert.deepEqual(zoneRecords(zone, undefined).filter((r) => r.owner === 'ns.other.example'), []);
  });

  it('have a serial that is a function of the content', () => {
    const zone = zoneOf(labSpec());
    const serial = (text: string): string => /(\d+)\s+; serial/.exec(text)?.[1] ?? '';
    const a = renderZoneFile(zone, undefined);
    assert.equal(renderZoneFile(zone, undefined), a);
    const b = renderZoneFile({ ...zone, ttl: 600 }, undefined);
    assert.notEqual(serial(b), serial(a), 'a changed zone keeps its serial');
    const s = zoneSerial('x');
    assert.ok(s >= 1 && s <= 0x7fffffff, `serial ${s} is outside 1..2^31-1`);
  });

  it('write the SOA contact as a mailbox name', () => {
    assert.equal(soaMailbox('hostmaster@lab.example'), 'hostmaster.lab.example.');
    assert.equal(soaMailbox('first.last@Lab.Example'), 'first\\.last.lab.example.');
  });

  it('recurse for this machine and its networks only, and forward', () => {
    const plan = debianConfigurator.plan(guest(labSpec()));
    const options = fileOf(plan, '/etc/bind/named.conf.options');
    includesAll(options, ['allow-recursion { localhost; localnets; };', 'forwarders { 192.0.2.1; };', 'listen-on { any; };']);
    assert.match(fileOf(plan, '/etc/bind/named.conf.local'), /zone "lab\.example" \{\n\ttype primary;\n\tfile "\/etc\/bind\/db\.lab\.example";/);
  });

  it('RedHat: one named.conf with the distribution\'s own statements, zones in /var/named', () => {
    const plan = redhatConfigurator.plan(guest(labSpec(REDHAT_OS)));
    const conf = fileOf(plan, '/etc/named.conf');
    includesAll(conf, ['directory "/var/named";', 'pid-file "/run/named/named.pid";', 'include "/etc/named.rfc1912.zones";', 'file "/var/named/db.lab.example";']);
    assert.ok(conf.indexOf('options {') < conf.indexOf('zone "lab.example"'), 'the zones come after the options');
    fileOf(plan, '/var/named/db.lab.example');
  });

  it('are checked in the guest at build time by named-checkconf', () => {
    const argv = debianConfigurator.plan(guest(labSpec())).commands.map((c) => c.argv.join(' '));
    includesAll(argv, ['named-checkconf -z /etc/bind/named.conf']);
  });

  it('are absent without [dns]', () => {
    const spec = labSpec(DEBIAN_OS, 'qemu', (t) => t.replace(/^\[dns\][\s\S]*?(?=^\[dhcp\])/m, ''));
    assert.equal(spec.provision.services.dns, undefined);
    const paths = debianConfigurator.plan(guest(spec)).files.map((f) => f.path);
    assert.ok(!paths.some((p) => p.startsWith('/etc/bind/')), show(paths));
  });
});

// ---------------------------------------------------------------------------------------------
// DHCP

describe('DHCP', () => {
  it('serves one subnet per scope on its NIC, with the options and reservations', () => {
    const dhcp = labSpec().provision.services.dhcp;
    assert.ok(dhcp, 'the lab has [dhcp]');
    const conf = JSON.parse(renderKeaDhcp4(dhcp, DEBIAN_NET.dhcp).replace(/^\/\/.*\n/, '')) as { Dhcp4: Record<string, unknown> };
    assert.deepEqual(conf.Dhcp4['interfaces-config'], { interfaces: ['eth1'], 'service-sockets-max-retries': 10, 'service-sockets-retry-wait-time': 3000 });
    assert.deepEqual(conf.Dhcp4['subnet4'], [{
      id: 1,
      subnet: '10.0.1.0/24',
      interface: 'eth1',
      pools: [{ pool: '10.0.1.100 - 10.0.1.199' }],
      'option-data': [{ name: 'routers', data: '10.0.1.1' }, { name: 'domain-name-servers', data: '10.0.1.1' }, { name: 'domain-name', data: 'lab.example' }],
      'valid-lifetime': 3600,
      reservations: [{ 'hw-address': '52:54:00:00:01:50', 'ip-address': '10.0.1.50', hostname: 'printer' }],
    }]);
    assert.deepEqual(conf.Dhcp4['lease-database'], { type: 'memfile', persist: true, name: '/var/lib/kea/kea-leases4.csv', 'lfc-interval': 3600 });
  });

  it('leaves out the options a scope does not set', () => {
    const dhcp = labSpec().provision.services.dhcp!;
    const bare = { scopes: dhcp.scopes.map((s) => ({ ...s, dns: [], hosts: [] })) };
    const { gateway: _g, domain: _d, ...scope } = bare.scopes[0]!;
    const text = renderKeaDhcp4({ scopes: [scope] }, DEBIAN_NET.dhcp);
    assert.doesNotMatch(text, /option-data|reservations/);
  });
});

// ---------------------------------------------------------------------------------------------
// Router

describe('router', () => {
  it('routes the forward NICs but never the NAT NIC, the way out', () => {
    assert.deepEqual(routedNics({ forward: ['eth0', 'eth1', 'eth2'], nat: 'eth0' }), ['eth1', 'eth2']);
    assert.deepEqual(routedNics({ forward: ['eth1'] }), ['eth1']);
  });

  it('Debian: the forward chain lets the routed NICs out, and a nat table masquerades out of the NAT NIC', () => {
    const text = fileOf(debianConfigurator.plan(guest(labSpec())), '/etc/nftables.conf');
    assert.match(text, /chain forward \{\n\t\ttype filter hook forward priority filter; policy drop;\n.*\n\t\tct state established,related accept\n\t\tct state invalid drop\n\t\tiifname "eth1" accept\n\t\}/);
    assert.match(text, /table ip nat \{\n\tchain postrouting \{\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\toifname "eth0" masquerade\n\t\}\n\}\n$/);
    assert.ok(hasMasquerade(text, 'eth0'), 'hasMasquerade does not find the rule it is meant to find');
    assert.ok(!hasMasquerade(text, 'eth1'), 'hasMasquerade finds a rule for the wrong NIC');
  });

  it('Debian: several routed NICs are one set', () => {
    const text = renderNftablesRuleset({ openPorts: [], rawRules: [] }, { forward: ['eth1', 'eth2'] });
    assert.match(text, /\t\tiifname \{ "eth1", "eth2" \} accept\n/);
    assert.doesNotMatch(text, /table ip nat/);
  });

  it('a ruleset without [router] is what it was', () => {
    assert.equal(renderNftablesRuleset({ openPorts: [], rawRules: [] }, undefined), renderNftablesRuleset({ openPorts: [], rawRules: [] }));
  });

  it('turns forwarding on through sysctl.d in every family', () => {
    for (const plan of [debianConfigurator.plan(guest(labSpec())), redhatConfigurator.plan(guest(labSpec(REDHAT_OS)))]) {
      assert.match(fileOf(plan, ROUTER_SYSCTL_FILE), /^net\.ipv4\.ip_forward = 1$/m);
    }
  });

  it('RedHat: the NAT NIC in a zone of its own, a policy masquerading into it, its keyfile naming the zone', () => {
    const plan = redhatConfigurator.plan(guest(labSpec(REDHAT_OS)));
    assert.match(fileOf(plan, NAT_ZONE_FILE), /<short>vmgen-nat<\/short>\n.*\n {2}<interface name="eth0"\/>/);
    assert.match(fileOf(plan, NAT_ZONE_FILE), /<port protocol="udp" port="67"\/>/);
    includesAll(fileOf(plan, ROUTER_POLICY_FILE), ['<ingress-zone name="vmgen"/>', '<egress-zone name="vmgen-nat"/>', '<masquerade/>']);
    assert.match(fileOf(plan, '/etc/NetworkManager/system-connections/eth0.nmconnection'), /^zone=vmgen-nat$/m);
    assert.doesNotMatch(fileOf(plan, '/etc/NetworkManager/system-connections/eth1.nmconnection'), /^zone=/m);
  });

  it('LXC: forwarding set by the container config only with [router]', () => {
    assert.match(renderLxcConfig(labSpec(DEBIAN_OS, 'lxc')), /^lxc\.sysctl\.net\.ipv4\.ip_forward = 1$/m);
    const plain = labSpec(DEBIAN_OS, 'lxc', (t) => t.replace(/^\[router\][\s\S]*$/m, ''));
    assert.doesNotMatch(renderLxcConfig(plain), /sysctl/);
  });

  it('OpenVZ: the full netfilter for NAT', () => {
    assert.match(renderCtidConf(labSpec(DEBIAN_OS, 'openvz'), { ctid: 101, ostemplate: 'debian-12-x86_64-vmgen-labgw' }), /^NETFILTER="full"$/m);
  });
});

// ---------------------------------------------------------------------------------------------
// The servers' own checkers, on the generated files

function available(program: string, args: string[]): boolean {
  const r = spawnSync(program, args, { encoding: 'utf8' });
  return r.error === undefined;
}

const ROOT_ONLY = process.getuid?.() === 0;

/** The plan's files under a scratch root, plus empty stand-ins for what the packages ship. */
function writeRoot(files: readonly GuestFile[], stubs: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'vmgen-net-'));
  for (const [path, content] of [...Object.entries(stubs), ...files.map((f) => [f.path, f.content] as const)]) {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function checkerOutput(r: ReturnType<typeof spawnSync>): string {
  return `${String(r.stdout)}${String(r.stderr)}`;
}

const NAMED_CHECKCONF = available('named-checkconf', ['-v']) && ROOT_ONLY;

describe('named-checkconf -z on the generated files', { skip: NAMED_CHECKCONF ? false : 'needs named-checkconf (bind9-utils) and root for -t' }, () => {
  it('Debian: named.conf.options and named.conf.local, as bind9\'s named.conf includes them', () => {
    const files = netPart(debianConfigurator.plan(guest(labSpec()))).files;
    const mainConf = 'include "/etc/bind/named.conf.options";\ninclude "/etc/bind/named.conf.local";\n';
    // named changes to its working directory while reading the options.
    const root = writeRoot(files, { [DEBIAN_NET.dns.mainConf]: mainConf, [`${DEBIAN_NET.dns.directory}/.keep`]: '' });
    try {
      const r = spawnSync('named-checkconf', ['-z', '-t', root, DEBIAN_NET.dns.mainConf], { encoding: 'utf8' });
      assert.equal(r.status, 0, checkerOutput(r));
      assert.match(String(r.stdout), /zone lab\.example\/IN: loaded serial \d+/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('RedHat: /etc/named.conf with its zones', () => {
    const files = netPart(redhatConfigurator.plan(guest(labSpec(REDHAT_OS)))).files;
    const stubs = { '/etc/crypto-policies/back-ends/bind.config': '', '/etc/named.rfc1912.zones': '', '/etc/named.root.key': '', '/var/named/named.ca': '' };
    const root = writeRoot(files, stubs);
    try {
      const r = spawnSync('named-checkconf', ['-z', '-t', root, REDHAT_NET.dns.mainConf], { encoding: 'utf8' });
      assert.equal(r.status, 0, checkerOutput(r));
      assert.match(String(r.stdout), /zone lab\.example\/IN: loaded serial \d+/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a zone whose name server has no address (so the checker is really run)', () => {
    const spec = labSpec();
    const zone = { ...zoneOf(spec), ns: 'ns1.lab.example' };
    const text = renderZoneFile(zone, '192.0.2.2').replace(/^ns1\.lab\.example\..*\n/m, '');
    const root = writeRoot([], { '/db': text });
    try {
      const r = spawnSync('named-checkzone', ['lab.example', join(root, 'db')], { encoding: 'utf8' });
      assert.notEqual(r.status, 0, checkerOutput(r));
      assert.match(checkerOutput(r), /has no address records/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/**
 * kea-dhcp4 -t insists that the configured interfaces exist, so it runs in a network namespace of
 * its own with an eth1 (one end of a veth pair) holding the lab's address, as the guest has.
 */
const KEA_IN_NETNS = 'ip link add eth1 type veth peer name eth1-peer && ip addr add 10.0.1.1/24 dev eth1 && ip link set eth1 up && exec kea-dhcp4 -t "$1"';
const KEA = available('kea-dhcp4', ['-v']) && ROOT_ONLY && spawnSync('unshare', ['--net', 'true']).status === 0;

function keaCheck(file: string): ReturnType<typeof spawnSync> {
  return spawnSync('unshare', ['--net', 'sh', '-c', KEA_IN_NETNS, 'kea-check', file], { encoding: 'utf8' });
}

describe('kea-dhcp4 -t on the generated file', { skip: KEA ? false : 'needs kea-dhcp4 (kea-dhcp4-server), root and network namespaces' }, () => {
  it('accepts the lab\'s configuration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-kea-'));
    try {
      const file = join(dir, 'kea-dhcp4.conf');
      writeFileSync(file, fileOf(debianConfigurator.plan(guest(labSpec())), DEBIAN_NET.dhcp.conf));
      const r = keaCheck(file);
      assert.equal(r.status, 0, checkerOutput(r));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a reservation outside the subnet (so the checker is really run)', () => {
    const dhcp = labSpec().provision.services.dhcp!;
    const broken = { scopes: dhcp.scopes.map((s) => ({ ...s, hosts: [{ name: 'far', mac: '52:54:00:00:09:09', address: '172.16.0.9' }] })) };
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-kea-'));
    try {
      const file = join(dir, 'kea-dhcp4.conf');
      writeFileSync(file, renderKeaDhcp4(broken, DEBIAN_NET.dhcp));
      const r = keaCheck(file);
      assert.notEqual(r.status, 0, checkerOutput(r));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const NFT = ROOT_ONLY && spawnSync('nft', ['-c', '-f', '-'], { input: renderNftablesRuleset({ openPorts: [], rawRules: [] }), encoding: 'utf8' }).status === 0;

describe('nft -c on the router\'s ruleset', { skip: NFT ? false : 'needs nft and root' }, () => {
  it('parses the lab gateway\'s ruleset', () => {
    const r = spawnSync('nft', ['-c', '-f', '-'], { input: fileOf(debianConfigurator.plan(guest(labSpec())), '/etc/nftables.conf'), encoding: 'utf8' });
    assert.equal(r.status, 0, checkerOutput(r));
  });
});

// ---------------------------------------------------------------------------------------------
// vmgen render

describe('vmgen render shows the service files', () => {
  it('every DNS, DHCP and router file of the plan, under guest/', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-net-render-'));
    try {
      const out = join(dir, 'out');
      const r = await runCli('vmgen', ['render', FIXTURE, '--target', 'lxc', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      const plan = netPart(debianConfigurator.plan(target(labSpec(DEBIAN_OS, 'lxc'))));
      assert.ok(plan.files.length >= 6, `the plan has only ${plan.files.length} of this part's files`);
      for (const f of plan.files) assert.equal(readFileSync(join(out, 'guest', f.path), 'utf8'), f.content, f.path);
      assert.match(readFileSync(join(out, 'target', 'config'), 'utf8'), /^lxc\.sysctl\.net\.ipv4\.ip_forward = 1$/m);
      includesAll(readFileSync(join(out, 'guest-commands.txt'), 'utf8'), ['named-checkconf -z /etc/bind/named.conf']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
