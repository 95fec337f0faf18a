import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, includesNone, noItem, show } from '../helpers/assert-values.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { resolveSpec, type ResolvedNic, type ResolvedSpec, type ResolvedUser } from '../../src/config/resolve.js';
import { STAGED_KEYS_DIR, debianConfigurator } from '../../src/families/debian/configure.js';
import {
  localeCharset, parseKeyboard, renderChpasswdInput, renderHosts, renderKeyboard, renderResolvConf,
} from '../../src/families/debian/render.js';
import type { GuestContext, GuestPlan } from '../../src/families/types.js';
import { assertGoldenTree, guestPlanTree } from '../helpers/golden.js';

// ---------------------------------------------------------------------------------------------
// Specs

const catalogs = loadCatalogs({ env: {} });
const EXAMPLE = fileURLToPath(new URL('../../examples/debian-web.conf', import.meta.url));

/** The README's sample machine, freshly resolved so a test may change it. */
function webSpec(): ResolvedSpec {
  const loaded = loadConfig(readFileSync(EXAMPLE, 'utf8'), { catalogs });
  if (loaded.config === undefined) throw new Error(`examples/debian-web.conf does not load: ${JSON.stringify(loaded.diagnostics)}`);
  return resolveSpec(loaded.config, catalogs, { target: 'lxc', defaultMirror: 'http://mirror.example/debian' });
}

function nic(over: Partial<ResolvedNic> & Pick<ResolvedNic, 'name'>): ResolvedNic {
  return { index: 0, link: 'nat', connected: true, mode: 'dhcp', dns: [], ...over };
}

function staticNic(name: string, cidr: string, over: Partial<ResolvedNic> = {}): ResolvedNic {
  const [address, prefix] = cidr.split('/') as [string, string];
  return nic({ name, mode: 'static', address, prefix: Number(prefix), ...over });
}

function user(name: string, over: Partial<ResolvedUser> = {}): ResolvedUser {
  return { name, groups: [], home: `/home/${name}`, shell: '/bin/bash', sshKeys: [], ...over };
}

/** The sample machine reduced to one setting at a time, so each test reads what it changes. */
function bareSpec(over: Partial<ResolvedSpec> = {}): ResolvedSpec {
  const { os } = webSpec();
  return {
    name: 'bare', hostname: 'bare', target: 'lxc', os, cpus: 1, ramMiB: 512, mirror: 'http://mirror.example/debian',
    groups: [], users: [], nics: [], dns: [], routes: [], openPorts: [], rawRules: [], bashCompletion: false, repos: [],
    apps: [], appPackages: [], appServices: [], provision: { files: [], scripts: [], services: {} }, ...over,
  };
}

const guest = (spec: ResolvedSpec): GuestContext => ({ spec, nicOwner: 'guest' });
const target = (spec: ResolvedSpec): GuestContext => ({ spec, nicOwner: 'target' });

function file(plan: GuestPlan, path: string): string {
  const f = plan.files.find((x) => x.path === path);
  assert.ok(f, `no file ${path} in the plan (have: ${plan.files.map((x) => x.path).join(', ')})`);
  return f.content;
}

function paths(plan: GuestPlan): string[] {
  return plan.files.map((f) => f.path);
}

function argvs(plan: GuestPlan): string[][] {
  return plan.commands.map((c) => c.argv);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Golden files

function checkGolden(name: string, plan: GuestPlan): void {
  assertGoldenTree(`debian-web/${name}`, guestPlanTree(plan));
}

/** The sample machine plus what it lacks: a route, a repository, a keyboard, SSH keys, raw rules. */
function withExtras(spec: ResolvedSpec): ResolvedSpec {
  return {
    ...spec,
    routes: [{ to: '10.0.0.0/8', via: '192.168.1.254' }],
    repos: ['deb [signed-by=/etc/apt/keyrings/example.gpg] http://apt.example/debian bookworm main'],
    keyboard: 'de(nodeadkeys)',
    users: spec.users.map((u) => (u.name === 'caesar' ? { ...u, sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGs caesar@rome'] } : u)),
    openPorts: [...spec.openPorts, { proto: 'all', from: 6000, to: 6010, description: 'X11 "displays"' }],
    rawRules: ['ip saddr 10.0.0.0/8 tcp dport { 8080, 8443 } accept', 'counter drop'],
  };
}

describe('golden: examples/debian-web.conf', () => {
  it('when the guest owns its NICs (a VM)', () => checkGolden('guest-nics', debianConfigurator.plan(guest(webSpec()))));
  it('when the target owns the NICs (a container)', () => checkGolden('target-nics', debianConfigurator.plan(target(webSpec()))));
  it('with extras, when the guest owns its NICs', () => checkGolden('extras-guest-nics', debianConfigurator.plan(guest(withExtras(webSpec())))));
  it('with extras, when the target owns the NICs', () => checkGolden('extras-target-nics', debianConfigurator.plan(target(withExtras(webSpec())))));
});

// ---------------------------------------------------------------------------------------------
// The configurator

describe('debianConfigurator', () => {
  it('is registered as debian', () => assert.equal(debianConfigurator.id, 'debian'));

  it('plans without changing the spec and gives the same plan twice', () => {
    // Frozen: a plan that wrote into the spec would throw.
    const spec = deepFreeze(withExtras(webSpec()));
    const a = debianConfigurator.plan(guest(spec));
    assert.deepEqual(debianConfigurator.plan(guest(spec)), a);
  });

  it('gives every command an argv of plain strings and a reason', () => {
    const spec = webSpec();
    spec.users[0]!.sshKeys = ['ssh-ed25519 AAAAC3Nz caesar@rome'];
    for (const ctx of [guest(spec), target(spec)]) {
      for (const c of debianConfigurator.plan(ctx).commands) {
        // The one empty argument allowed is ssh-keygen's empty passphrase (-N '').
        assert.ok(c.argv.length > 0 && c.argv.every((a, i) => typeof a === 'string' && (a !== '' || c.argv[i - 1] === '-N')), JSON.stringify(c.argv));
        assert.notEqual(c.why, '', show(c.argv));
      }
    }
  });
});

describe('packages', () => {
  it('always includes init, firewall, ip and sudo, sorted', () => {
    assert.deepEqual(debianConfigurator.packages(guest(bareSpec())), ['iproute2', 'nftables', 'sudo', 'systemd-sysv']);
  });
  it('adds what the optional settings need', () => {
    const spec = bareSpec({ locale: 'de_DE.UTF-8', bashCompletion: true, keyboard: 'de', timezone: 'Europe/Berlin' });
    assert.deepEqual(debianConfigurator.packages(guest(spec)),
      ['bash-completion', 'iproute2', 'keyboard-configuration', 'locales', 'nftables', 'sudo', 'systemd-sysv', 'tzdata']);
  });
  it('needs no locales package for the built-in locales', () => {
    for (const locale of ['C', 'POSIX', 'C.UTF-8']) {
      assert.ok(!debianConfigurator.packages(guest(bareSpec({ locale }))).includes('locales'), locale);
    }
  });
});

describe('services', () => {
  const eth0 = staticNic('eth0', '192.168.1.2/24');
  it('enables networkd only when the guest owns at least one NIC', () => {
    assert.deepEqual(debianConfigurator.services(guest(bareSpec({ nics: [eth0] }))), ['nftables', 'systemd-networkd']);
    assert.deepEqual(debianConfigurator.services(guest(bareSpec())), ['nftables']);
    assert.deepEqual(debianConfigurator.services(target(bareSpec({ nics: [eth0] }))), ['nftables']);
  });
  it('configures a DHCP NIC in the guest even when the target owns the NICs (no container manager runs a DHCP client)', () => {
    const dhcp = nic({ name: 'eth0', mode: 'dhcp' });
    assert.deepEqual(debianConfigurator.services(target(bareSpec({ nics: [eth0, { ...dhcp, name: 'eth1', index: 1 }] }))), ['nftables', 'systemd-networkd', 'systemd-resolved']);
    const files = debianConfigurator.plan(target(bareSpec({ nics: [eth0, { ...dhcp, name: 'eth1', index: 1 }] }))).files.map((f) => f.path);
    assert.ok(files.includes('/etc/systemd/network/10-eth1.network'), `the DHCP NIC has its networkd file: ${files.join(', ')}`);
    assert.ok(!files.includes('/etc/systemd/network/10-eth0.network'), 'the static NIC the target configures has none');
  });
  it('takes a DHCP client\'s DNS servers from its lease through resolved, unless the config names servers', () => {
    const dhcp = nic({ name: 'eth0', mode: 'dhcp' });
    const plan = debianConfigurator.plan(target(bareSpec({ nics: [dhcp] })));
    assert.deepEqual(plan.links.filter((l) => l.path === '/etc/resolv.conf'), [{ path: '/etc/resolv.conf', target: '../run/systemd/resolve/stub-resolv.conf' }]);
    assert.ok(debianConfigurator.packages(target(bareSpec({ nics: [dhcp] }))).includes('systemd-resolved'), 'resolved is installed');
    const named = debianConfigurator.plan(target(bareSpec({ nics: [dhcp], dns: ['10.0.0.53'] })));
    assert.deepEqual(named.links.filter((l) => l.path === '/etc/resolv.conf'), [], 'a config with DNS servers keeps its resolv.conf');
    assert.ok(!debianConfigurator.packages(target(bareSpec({ nics: [dhcp], dns: ['10.0.0.53'] }))).includes('systemd-resolved'), 'and needs no resolved');
  });
  it('enables the routes unit when the target owns the NICs and there are routes', () => {
    const routes = [{ to: '10.0.0.0/8', via: '192.168.1.254' }];
    assert.deepEqual(debianConfigurator.services(target(bareSpec({ nics: [eth0], routes }))), ['nftables', 'vmgen-routes']);
  });
  it('enables the configuration\'s and the applications\' units in one command', () => {
    const plan = debianConfigurator.plan(guest(bareSpec({ nics: [nic({ name: 'eth0' })], appServices: ['ssh', 'apache2', 'nftables'] })));
    assert.deepEqual(plan.commands.at(-1)?.argv, ['systemctl', 'enable', 'nftables', 'systemd-networkd', 'systemd-resolved', 'ssh', 'apache2']);
  });
});

describe('identity files', () => {
  it('maps the host name to the first static address', () => {
    const hosts = file(debianConfigurator.plan(guest(webSpec())), '/etc/hosts');
    assert.match(hosts, /^127\.0\.0\.1\tlocalhost\n192\.168\.1\.2\tweb1\n/);
    assert.doesNotMatch(hosts, /127\.0\.1\.1/);
    assert.match(hosts, /^::1\tlocalhost ip6-localhost ip6-loopback$/m);
  });
  it('maps the host name to 127.0.1.1 without a static address, as Debian does', () => {
    assert.match(renderHosts('bare'), /^127\.0\.1\.1\tbare$/m);
  });
  it('gives a fully qualified name its short name as an alias', () => {
    assert.match(renderHosts('web1.example.org', '10.0.0.5'), /^10\.0\.0\.5\tweb1\.example\.org\tweb1$/m);
  });
  it('writes /etc/hostname', () => {
    assert.equal(file(debianConfigurator.plan(guest(bareSpec())), '/etc/hostname'), 'bare\n');
  });
  it('refuses a host name that would break the files', () => {
    assert.throws(() => debianConfigurator.plan(guest(bareSpec({ hostname: 'web1\n10.0.0.1 evil' }))), /not a valid hostname/);
  });
  it('writes resolv.conf only with DNS servers', () => {
    includesNone(paths(debianConfigurator.plan(guest(bareSpec()))), ['/etc/resolv.conf']);
    const text = file(debianConfigurator.plan(guest(bareSpec({ dns: ['10.0.0.53'] }))), '/etc/resolv.conf');
    assert.match(text, /^nameserver 10\.0\.0\.53$/m);
  });
  it('keeps the first three DNS servers and says which it dropped', () => {
    const text = renderResolvConf(['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4', '5.5.5.5']);
    assert.deepEqual(text.split('\n').filter((l) => l.startsWith('nameserver')), ['nameserver 1.1.1.1', 'nameserver 2.2.2.2', 'nameserver 3.3.3.3']);
    assert.match(text, /^# .*at most 3.*4\.4\.4\.4, 5\.5\.5\.5$/m);
  });
});

describe('network files when the guest owns the NICs', () => {
  const net = (spec: ResolvedSpec, name: string) => file(debianConfigurator.plan(guest(spec)), `/etc/systemd/network/10-${name}.network`);

  it('matches by name only and configures DHCP', () => {
    const text = net(bareSpec({ nics: [nic({ name: 'eth0', mac: '00:50:56:00:10:01' })] }), 'eth0');
    assert.match(text, /\[Match\]\nName=eth0\n\n\[Network\]\nDHCP=ipv4\n$/);
    assert.doesNotMatch(text, /MACAddress/);
  });
  it('gives a static NIC its address, its own gateway and its DNS servers', () => {
    const text = net(bareSpec({ nics: [staticNic('eth0', '10.1.2.3/16', { gateway: '10.1.0.1', dns: ['10.1.0.53'] })] }), 'eth0');
    assert.match(text, /\[Network\]\nAddress=10\.1\.2\.3\/16\nGateway=10\.1\.0\.1\nDNS=10\.1\.0\.53\n$/);
  });
  it('puts the system gateway on the NIC whose subnet holds it', () => {
    const spec = bareSpec({ gateway: '172.16.0.1', nics: [staticNic('eth0', '192.168.1.2/24'), staticNic('eth1', '172.16.0.9/12')] });
    assert.doesNotMatch(net(spec, 'eth0'), /Gateway=/);
    assert.match(net(spec, 'eth1'), /^Gateway=172\.16\.0\.1$/m);
  });
  it("prefers a NIC's own gateway to the system one", () => {
    const spec = bareSpec({ gateway: '192.168.1.1', nics: [staticNic('eth0', '192.168.1.2/24', { gateway: '192.168.1.254' })] });
    assert.deepEqual(net(spec, 'eth0').match(/^Gateway=.*$/gm), ['Gateway=192.168.1.254']);
  });
  it('puts a system gateway outside every static subnet on the first DHCP NIC', () => {
    const spec = bareSpec({ gateway: '10.9.9.1', nics: [staticNic('eth0', '192.168.1.2/24'), nic({ name: 'eth1' })] });
    assert.match(net(spec, 'eth1'), /^DHCP=ipv4\nGateway=10\.9\.9\.1$/m);
  });
  it('puts a route on its device, or on the NIC whose subnet holds the next hop', () => {
    const spec = bareSpec({
      nics: [staticNic('eth0', '192.168.1.2/24'), staticNic('eth1', '10.0.0.2/24')],
      routes: [{ to: '172.16.0.0/12', via: '10.0.0.1' }, { to: '192.168.50.0/24', via: '192.168.1.9', dev: 'eth0' }],
    });
    assert.match(net(spec, 'eth0'), /\n\[Route\]\nDestination=192\.168\.50\.0\/24\nGateway=192\.168\.1\.9\n$/);
    assert.match(net(spec, 'eth1'), /\n\[Route\]\nDestination=172\.16\.0\.0\/12\nGateway=10\.0\.0\.1\n$/);
  });
  it('refuses a route that no NIC can carry', () => {
    const nics = [staticNic('eth0', '192.168.1.2/24')];
    assert.throws(() => debianConfigurator.plan(guest(bareSpec({ nics, routes: [{ to: '10.0.0.0/8', via: '172.16.0.1' }] }))), /no static NIC's subnet/);
    assert.throws(() => debianConfigurator.plan(guest(bareSpec({ nics, routes: [{ to: '10.0.0.0/8', via: '192.168.1.1', dev: 'eth7' }] }))), /'eth7'.*not one of the NICs/);
  });
  it('refuses an interface name that is not one', () => {
    assert.throws(() => debianConfigurator.plan(guest(bareSpec({ nics: [nic({ name: 'eth0/../x' })] }))), /not a usable interface name/);
  });
});

describe('network files when the target owns the NICs', () => {
  const eth0 = staticNic('eth0', '192.168.1.2/24');
  it('writes no networkd file', () => {
    const plan = debianConfigurator.plan(target(bareSpec({ nics: [eth0], gateway: '192.168.1.1' })));
    assert.ok(!paths(plan).some((p) => p.startsWith('/etc/systemd/')), paths(plan).join(', '));
  });
  it('adds the routes with a oneshot unit', () => {
    const routes = [{ to: '10.0.0.0/8', via: '192.168.1.254' }, { to: '172.16.0.0/12', via: '192.168.1.253', dev: 'eth0' }];
    const plan = debianConfigurator.plan(target(bareSpec({ nics: [eth0], routes })));
    const unit = file(plan, '/etc/systemd/system/vmgen-routes.service');
    assert.deepEqual(unit.match(/^ExecStart=.*$/gm), [
      'ExecStart=ip route replace 10.0.0.0/8 via 192.168.1.254',
      'ExecStart=ip route replace 172.16.0.0/12 via 192.168.1.253 dev eth0',
    ]);
    assert.match(unit, /^Type=oneshot$/m);
    assert.match(unit, /^WantedBy=multi-user\.target$/m);
    includesAll(plan.commands.at(-1)?.argv ?? [], ['vmgen-routes']);
  });
});

describe('firewall', () => {
  it('writes the ruleset as an executable nft script', () => {
    const f = debianConfigurator.plan(guest(webSpec())).files.find((x) => x.path === '/etc/nftables.conf');
    assert.equal(f?.mode, 0o755);
    assert.match(f?.content ?? '', /^#!\/usr\/sbin\/nft -f\n/);
    assert.match(f?.content ?? '', /tcp dport 80 accept comment "web"/);
  });
});

describe('apt sources', () => {
  it('writes the extra repositories only when there are some', () => {
    includesNone(paths(debianConfigurator.plan(guest(bareSpec()))), ['/etc/apt/sources.list.d/vmgen.list']);
    const repos = ['deb http://apt.example/debian bookworm main', 'deb-src [arch=amd64] http://apt.example/debian bookworm main'];
    const text = file(debianConfigurator.plan(guest(bareSpec({ repos }))), '/etc/apt/sources.list.d/vmgen.list');
    assert.deepEqual(text.split('\n').filter((l) => l.startsWith('deb')), repos);
  });
  for (const bad of ['http://apt.example/debian bookworm main', 'deb http://a/ b main\ndeb http://evil/ b main', 'debhttp://a/']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => debianConfigurator.plan(guest(bareSpec({ repos: [bad] }))), /apt source/));
  }
});

describe('time zone, locale and keyboard', () => {
  it('links /etc/localtime and writes /etc/timezone', () => {
    const plan = debianConfigurator.plan(guest(bareSpec({ timezone: 'America/Argentina/Buenos_Aires' })));
    assert.deepEqual(plan.links, [{ path: '/etc/localtime', target: '/usr/share/zoneinfo/America/Argentina/Buenos_Aires' }]);
    assert.equal(file(plan, '/etc/timezone'), 'America/Argentina/Buenos_Aires\n');
  });
  it('writes nothing for an unset time zone, locale or keyboard', () => {
    const plan = debianConfigurator.plan(guest(bareSpec()));
    assert.deepEqual(plan.links, []);
    assert.deepEqual(paths(plan), ['/etc/hostname', '/etc/hosts', '/etc/nftables.conf']);
    noItem(argvs(plan), (a) => a[0] === 'locale-gen');
  });
  it('refuses a time zone that leaves /usr/share/zoneinfo', () => {
    assert.throws(() => debianConfigurator.plan(guest(bareSpec({ timezone: '../../etc/shadow' }))), /not a time zone/);
  });
  it('sets LANG per build, and lists and generates the locale once in the packages layer', () => {
    const ctx = guest(bareSpec({ locale: 'de_DE.ISO-8859-15@euro' }));
    const plan = debianConfigurator.plan(ctx);
    assert.equal(file(plan, '/etc/default/locale'), 'LANG=de_DE.ISO-8859-15@euro\n');
    noItem(argvs(plan), (a) => a[0] === 'locale-gen');
    const layer = debianConfigurator.layerPlan?.(ctx);
    assert.deepEqual(layer?.key, { locales: ['de_DE.ISO-8859-15@euro'] });
    assert.match(file(layer!.plan, '/etc/locale.gen'), /^de_DE\.ISO-8859-15@euro ISO-8859-15$/m);
    assert.deepEqual(argvs(layer!.plan).filter((a) => a[0] === 'locale-gen'), [['locale-gen']]);
  });
  it('sets a built-in locale without generating anything', () => {
    const plan = debianConfigurator.plan(guest(bareSpec({ locale: 'C.UTF-8' })));
    assert.equal(file(plan, '/etc/default/locale'), 'LANG=C.UTF-8\n');
    includesNone(paths(plan), ['/etc/locale.gen']);
    noItem(argvs(plan), (a) => a[0] === 'locale-gen');
    assert.equal(debianConfigurator.layerPlan?.(guest(bareSpec({ locale: 'C.UTF-8' }))), undefined);
  });
  const charsets: Array<[string, string]> = [
    ['en_US.UTF-8', 'UTF-8'], ['en_US.utf8', 'UTF-8'], ['en_US', 'UTF-8'], ['sr_RS@latin', 'UTF-8'],
    ['de_DE.ISO-8859-1', 'ISO-8859-1'], ['de_DE.ISO-8859-15@euro', 'ISO-8859-15'], ['ja_JP.eucJP', 'EUCJP'],
  ];
  for (const [locale, charset] of charsets) {
    it(`reads the charset of ${locale} as ${charset}`, () => assert.equal(localeCharset(locale), charset));
  }
  const keyboards: Array<[string, { layout: string; variant: string }]> = [
    ['us', { layout: 'us', variant: '' }], ['de(nodeadkeys)', { layout: 'de', variant: 'nodeadkeys' }],
    ['de-nodeadkeys', { layout: 'de', variant: 'nodeadkeys' }], ['gb_extd', { layout: 'gb', variant: 'extd' }],
  ];
  for (const [keyboard, expected] of keyboards) {
    it(`reads keyboard ${keyboard}`, () => assert.deepEqual(parseKeyboard(keyboard), expected));
  }
  it('writes /etc/default/keyboard', () => {
    const text = renderKeyboard('de(nodeadkeys)');
    assert.match(text, /^XKBMODEL="pc105"\nXKBLAYOUT="de"\nXKBVARIANT="nodeadkeys"\nXKBOPTIONS=""\n/m);
    assert.equal(file(debianConfigurator.plan(guest(bareSpec({ keyboard: 'us' }))), '/etc/default/keyboard'), renderKeyboard('us'));
  });
  it('refuses a keyboard value that would break the file', () => {
    assert.throws(() => renderKeyboard('us"\nXKBOPTIONS="x'), /not a keyboard layout/);
  });
});

describe('accounts', () => {
  it('creates the groups, then the users with their groups, shell and home', () => {
    const spec = bareSpec({
      groups: ['julius', 'vmg'],
      users: [user('caesar', { groups: ['julius', 'sudo'], shell: '/bin/zsh', home: '/srv/caesar' }), user('vv')],
    });
    assert.deepEqual(argvs(debianConfigurator.plan(guest(spec))).slice(0, 4), [
      ['groupadd', 'julius'],
      ['groupadd', 'vmg'],
      ['useradd', '-m', '-U', '-s', '/bin/zsh', '-d', '/srv/caesar', '-G', 'julius,sudo', 'caesar'],
      ['useradd', '-m', '-U', '-s', '/bin/bash', '-d', '/home/vv', 'vv'],
    ]);
  });
  it('makes a listed group of the same name the user\'s primary group, since -U would fail on it', () => {
    const plan = debianConfigurator.plan(guest(bareSpec({ groups: ['vv'], users: [user('vv')] })));
    assert.deepEqual(argvs(plan)[1], ['useradd', '-m', '-g', 'vv', '-s', '/bin/bash', '-d', '/home/vv', 'vv']);
  });
  it('refuses names and paths that would break /etc/passwd', () => {
    assert.throws(() => debianConfigurator.plan(guest(bareSpec({ users: [user('-o')] }))), /not a valid user name/);
    assert.throws(() => debianConfigurator.plan(guest(bareSpec({ users: [user('vv', { groups: ['a,b'] })] }))), /not a valid group name/);
    assert.throws(() => debianConfigurator.plan(guest(bareSpec({ users: [user('vv', { home: '/home/v:v' })] }))), /':'/);
    assert.throws(() => debianConfigurator.plan(guest(bareSpec({ users: [user('vv', { shell: 'bash' })] }))), /shell/);
  });
});

describe('passwords', () => {
  const chpasswd = (plan: GuestPlan) => plan.commands.filter((c) => c.argv[0] === 'chpasswd');

  it('sets plain passwords in one chpasswd, root first, as a secret', () => {
    const [cmd, ...rest] = chpasswd(debianConfigurator.plan(guest(webSpec())));
    assert.deepEqual(rest, []);
    assert.deepEqual(cmd?.argv, ['chpasswd']);
    assert.equal(cmd?.input, 'root:change-me\ncaesar:alesia\nvv:pass\n');
    assert.equal(cmd?.secret, true);
  });
  it('sets hashes with chpasswd -e, apart from plain passwords', () => {
    const spec = bareSpec({
      rootPassword: { hash: '$y$j9T$salt$hash' },
      users: [user('a', { password: { plain: 'p:w' } }), user('b'), user('c', { password: { hash: '$6$s$h' } })],
    });
    assert.deepEqual(chpasswd(debianConfigurator.plan(guest(spec))).map((c) => [c.argv, c.input, c.secret]), [
      [['chpasswd'], 'a:p:w\n', true],
      [['chpasswd', '-e'], 'root:$y$j9T$salt$hash\nc:$6$s$h\n', true],
    ]);
  });
  it('runs no chpasswd when no account has a password (root stays locked)', () => {
    assert.deepEqual(chpasswd(debianConfigurator.plan(guest(bareSpec({ users: [user('vv')] })))), []);
  });
  it('refuses a password that would add a line, without showing it', () => {
    assert.throws(() => renderChpasswdInput([{ name: 'vv', secret: 'x\nroot:owned', hashed: false }]), (err: Error) => {
      assert.match(err.message, /line break/);
      includesNone(err.message, ['owned']);
      return true;
    });
    assert.throws(() => renderChpasswdInput([{ name: 'vv', secret: '$6$a:b', hashed: true }]), /colon/);
    assert.throws(() => renderChpasswdInput([{ name: 'vv', secret: '', hashed: false }]), /empty/);
  });
});

describe('SSH keys', () => {
  const keys = ['ssh-ed25519 AAAAC3Nz caesar@rome', 'ssh-rsa AAAAB3Nz caesar@gaul'];
  const spec = () => bareSpec({ users: [user('caesar', { sshKeys: keys }), user('vv'), user('brutus', { home: '/', sshKeys: [keys[0]!] })] });

  it('stages each key file privately, since the home does not exist yet when files are written', () => {
    const f = debianConfigurator.plan(guest(spec())).files.filter((x) => x.path.startsWith(STAGED_KEYS_DIR));
    assert.deepEqual(f.map((x) => [x.path, x.mode]), [[`${STAGED_KEYS_DIR}/caesar`, 0o600], [`${STAGED_KEYS_DIR}/brutus`, 0o600]]);
    assert.equal(f[0]?.content, `${keys[0]}\n${keys[1]}\n`);
  });
  it('installs them owned by the user after the user exists, then removes the staged copies', () => {
    const all = argvs(debianConfigurator.plan(guest(spec())));
    const lastUseradd = all.map((a) => a[0]).lastIndexOf('useradd');
    const keyCmds = all.filter((a) => a[0] === 'install' || a[0] === 'rm');
    assert.deepEqual(keyCmds, [
      ['install', '-d', '-m', '700', '-o', 'caesar', '-g', 'caesar', '/home/caesar/.ssh'],
      ['install', '-m', '600', '-o', 'caesar', '-g', 'caesar', `${STAGED_KEYS_DIR}/caesar`, '/home/caesar/.ssh/authorized_keys'],
      ['install', '-d', '-m', '700', '-o', 'brutus', '-g', 'brutus', '/.ssh'],
      ['install', '-m', '600', '-o', 'brutus', '-g', 'brutus', `${STAGED_KEYS_DIR}/brutus`, '/.ssh/authorized_keys'],
      ['rm', '-r', '--', STAGED_KEYS_DIR],
    ]);
    assert.ok(all.indexOf(keyCmds[0]!) > lastUseradd, `key staging at ${all.indexOf(keyCmds[0]!)}, last useradd at ${lastUseradd}`);
  });
  it('stages nothing without keys', () => {
    const plan = debianConfigurator.plan(guest(bareSpec({ users: [user('vv')] })));
    noItem(paths(plan), (p) => p.startsWith(STAGED_KEYS_DIR));
    noItem(argvs(plan), (a) => a[0] === 'install' || a[0] === 'rm');
  });
  it('refuses a key with a line break', () => {
    assert.throws(() => debianConfigurator.plan(guest(bareSpec({ users: [user('vv', { sshKeys: ['ssh-ed25519 AAAA\nssh-rsa BBBB'] })] }))), /SSH key/);
  });
});

describe('SSH host keys', () => {
  it('are made anew in every build when sshd is installed, so machines from one cached layer never share them', () => {
    const plan = debianConfigurator.plan(guest(bareSpec({ appPackages: ['openssh-server'] })));
    const argv = argvs(plan);
    const drop = argv.findIndex((a) => a[0] === 'find' && a.includes('ssh_host_*') && a.includes('-delete'));
    const made = argv.filter((a) => a[0] === 'ssh-keygen');
    // No RSA key: its 3072-bit prime search was half of the step, and sshd skips a missing default key quietly.
    assert.deepEqual(made.map((a) => a.at(-1)), ['/etc/ssh/ssh_host_ecdsa_key', '/etc/ssh/ssh_host_ed25519_key']);
    assert.ok(made.every((a) => a.includes('root@bare')), 'key comments name the machine, not the build host');
    assert.ok(drop >= 0 && argv.indexOf(made[0]!) > drop, JSON.stringify(argv));
  });
  it('are left alone without sshd', () => {
    noItem(argvs(debianConfigurator.plan(guest(bareSpec()))), (a) => a[0] === 'ssh-keygen');
  });
});
