import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, noItem } from '../helpers/assert-values.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { resolveSpec, type ResolvedNic, type ResolvedSpec } from '../../src/config/resolve.js';
import { VmgenError } from '../../src/errors.js';
import { FAMILIES } from '../../src/families/registry.js';
import { CONNECTIONS_DIR, NM_CONF, SUDO_GROUP_FILE, ZONE_FILE, redhatConfigurator } from '../../src/families/redhat/configure.js';
import {
  connectionUuid, langpackFor, renderKeyfile, renderNmConf, renderRawRules, renderVconsoleConf, renderZone,
} from '../../src/families/redhat/render.js';
import type { GuestContext, GuestPlan } from '../../src/families/types.js';
import { DRACUT_CONF, KERNEL_FINISH_SCRIPT, renderDracutConf } from '../../src/families/redhat/vm-kernel.js';
import { run as runCli } from '../helpers/cli.js';
import { assertGoldenTree, guestPlanTree } from '../helpers/golden.js';

const catalogs = loadCatalogs({ env: {} });
const CONFIG = fileURLToPath(new URL('../fixtures/rpm/redhat-web.conf', import.meta.url));

function webSpec(): ResolvedSpec {
  const loaded = loadConfig(readFileSync(CONFIG, 'utf8'), { catalogs });
  if (loaded.config === undefined) throw new Error(`redhat-web.conf does not load: ${JSON.stringify(loaded.diagnostics)}`);
  return resolveSpec(loaded.config, catalogs, { target: 'lxc', defaultMirror: 'http://mirror.example/fedora' });
}

function nic(over: Partial<ResolvedNic> & Pick<ResolvedNic, 'name'>): ResolvedNic {
  return { index: 0, link: 'nat', connected: true, mode: 'dhcp', dns: [], ...over };
}

const guest = (spec: ResolvedSpec): GuestContext => ({ spec, nicOwner: 'guest' });
const target = (spec: ResolvedSpec): GuestContext => ({ spec, nicOwner: 'target' });

function file(plan: GuestPlan, path: string): { content: string; mode?: number } {
  const f = plan.files.find((x) => x.path === path);
  assert.ok(f, `no file ${path} in the plan (have: ${plan.files.map((x) => x.path).join(', ')})`);
  return f;
}

// ---------------------------------------------------------------------------------------------
// Golden files

function checkGolden(name: string, ctx: GuestContext): void {
  assertGoldenTree(`redhat/${name}`, guestPlanTree(redhatConfigurator.plan(ctx), redhatConfigurator.packages(ctx)));
}

/** The sample plus a route, a second (DHCP) NIC, SSH keys, a keyboard, a locale and a port range. */
function withExtras(spec: ResolvedSpec): ResolvedSpec {
  return {
    ...spec,
    routes: [{ to: '10.0.0.0/8', via: '192.168.1.254' }],
    nics: [...spec.nics, nic({ name: 'eth1', index: 1, dns: ['10.1.1.1'] })],
    keyboard: 'de(nodeadkeys)',
    locale: 'de_DE.UTF-8',
    openPorts: [...spec.openPorts, { proto: 'all', from: 6000, to: 6010, description: 'x11 -- <range>' }],
    users: spec.users.map((u) => (u.name === 'caesar' ? { ...u, sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGs caesar@rome'] } : u)),
  };
}

describe('golden: test/fixtures/rpm/redhat-web.conf', () => {
  it('when the guest owns its NICs (a VM)', () => checkGolden('guest-nics', guest(webSpec())));
  it('when the target owns the NICs (a container)', () => checkGolden('target-nics', target(webSpec())));
  it('with extras, when the guest owns its NICs', () => checkGolden('extras-guest-nics', guest(withExtras(webSpec()))));
  it('with extras, when the target owns the NICs', () => checkGolden('extras-target-nics', target(withExtras(webSpec()))));
});

// ---------------------------------------------------------------------------------------------
// The configurator

describe('redhatConfigurator', () => {
  it('is what the registry gives for the OS table\'s redhat configurator', () => {
    assert.equal(FAMILIES.redhat.configurator, redhatConfigurator);
    assert.equal(webSpec().os.configurator, 'redhat');
  });

  it('asks dnf for Fedora names, not Debian ones', () => {
    const pkgs = redhatConfigurator.packages(guest(webSpec()));
    for (const p of ['NetworkManager', 'firewalld', 'iproute', 'shadow-utils', 'systemd', 'nftables']) assert.ok(pkgs.includes(p), p);
    for (const p of ['iproute2', 'systemd-sysv', 'locales']) assert.ok(!pkgs.includes(p), p);
    assert.deepEqual(pkgs, [...pkgs].sort());
  });

  it('writes keyfiles 0600, one per NIC, only when the guest owns the NICs', () => {
    const spec = withExtras(webSpec());
    const own = redhatConfigurator.plan(guest(spec));
    const keyfiles = own.files.filter((f) => f.path.startsWith(`${CONNECTIONS_DIR}/`));
    assert.deepEqual(keyfiles.map((f) => [f.path, f.mode]), [[`${CONNECTIONS_DIR}/eth0.nmconnection`, 0o600], [`${CONNECTIONS_DIR}/eth1.nmconnection`, 0o600]]);
    const theirs = redhatConfigurator.plan(target(spec));
    assert.equal(theirs.files.filter((f) => f.path.startsWith(`${CONNECTIONS_DIR}/`)).length, 0);
    assert.match(file(theirs, NM_CONF).content, /^unmanaged-devices=interface-name:eth0;interface-name:eth1$/m);
  });

  it('puts the gateway and the routes on the NIC whose subnet holds them', () => {
    const plan = redhatConfigurator.plan(guest(withExtras(webSpec())));
    const eth0 = file(plan, `${CONNECTIONS_DIR}/eth0.nmconnection`).content;
    const eth1 = file(plan, `${CONNECTIONS_DIR}/eth1.nmconnection`).content;
    assert.match(eth0, /^address1=192\.168\.1\.2\/24,192\.168\.1\.1$/m);
    assert.match(eth0, /^route1=10\.0\.0\.0\/8,192\.168\.1\.254$/m);
    assert.match(eth1, /^method=auto$/m);
    assert.doesNotMatch(eth1, /gateway|route1/);
  });

  it('enables firewalld, NetworkManager, the raw-rules unit and the apps\' services', () => {
    const last = redhatConfigurator.plan(target(webSpec())).commands.at(-1)!;
    assert.deepEqual(last.argv, ['systemctl', 'enable', 'firewalld', 'NetworkManager', 'vmgen-raw-rules', 'sshd', 'httpd']);
  });

  it('passwords travel on stdin, marked secret', () => {
    const c = redhatConfigurator.plan(guest(webSpec())).commands.find((x) => x.argv[0] === 'chpasswd')!;
    assert.equal(c.secret, true);
    noItem(c.argv, (a) => a.includes('alesia'));
    assert.match(c.input!, /^caesar:alesia$/m);
  });

  it('makes a sudo group with wheel\'s rights only when a user is in it and the config does not create it', () => {
    const spec = webSpec(); // caesar is in sudo
    const plan = redhatConfigurator.plan(guest(spec));
    assert.deepEqual(plan.commands[0]!.argv, ['groupadd', '-f', 'sudo']);
    assert.equal(file(plan, SUDO_GROUP_FILE).mode, 0o440);
    assert.match(file(plan, SUDO_GROUP_FILE).content, /^%sudo ALL=\(ALL\) ALL$/m);
    for (const other of [{ ...spec, users: spec.users.map((u) => ({ ...u, groups: u.groups.filter((g) => g !== 'sudo') })) }, { ...spec, groups: [...spec.groups, 'sudo'] }]) {
      const p = redhatConfigurator.plan(guest(other));
      noItem(p.files.map((f) => f.path), (path) => path === SUDO_GROUP_FILE);
      noItem(p.commands.map((c) => c.argv.join(' ')), (argv) => argv === 'groupadd -f sudo');
    }
  });

  it('refuses apt repository lines instead of ignoring them', () => {
    const spec = { ...webSpec(), repos: ['deb http://mirror.example/debian bookworm main'] };
    assert.throws(() => redhatConfigurator.plan(guest(spec)), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_UNSUPPORTED');
  });

  it('plans the same twice', () => {
    const spec = withExtras(webSpec());
    assert.deepEqual(redhatConfigurator.plan(guest(spec)), redhatConfigurator.plan(guest(spec)));
  });
});

// ---------------------------------------------------------------------------------------------
// Renderers

describe('renderZone', () => {
  it('drops by default, lists each port once per protocol, and lets the listed ICMP through', () => {
    const xml = renderZone([{ proto: 'tcp', from: 22, to: 22 }, { proto: 'all', from: 6000, to: 6010 }]);
    assert.match(xml, /<zone target="DROP">/);
    assert.match(xml, /<port protocol="tcp" port="22"\/>/);
    assert.match(xml, /<port protocol="tcp" port="6000-6010"\/>/);
    assert.match(xml, /<port protocol="udp" port="6000-6010"\/>/);
    assert.match(xml, /<icmp-block-inversion\/>/);
  });

  it('keeps descriptions from breaking out of their XML comment', () => {
    const xml = renderZone([{ proto: 'tcp', from: 80, to: 80, description: 'web --> <zone target="ACCEPT">' }]);
    assert.equal(xml.match(/<zone /g)?.length, 1);
    assert.equal(xml.match(/-->/g)?.length, 2); // the header's and the port's own
  });

  it('refuses a bad port range', () => {
    assert.throws(() => renderZone([{ proto: 'tcp', from: 90, to: 80 }]), /port range/);
  });
});

describe('renderRawRules', () => {
  it('puts the rules verbatim into a table of their own that reloading replaces', () => {
    const text = renderRawRules(['tcp dport 2323 drop', 'ip saddr 10.9.9.9 reject']);
    assert.match(text, /^table inet vmgen_raw\ndelete table inet vmgen_raw\ntable inet vmgen_raw \{$/m);
    assert.match(text, /^\t\ttcp dport 2323 drop$/m);
    assert.match(text, /^\t\tip saddr 10\.9\.9\.9 reject$/m);
    assert.doesNotMatch(text, /flush ruleset/); // that would remove firewalld's tables
  });

  it('refuses what the nftables path refuses', () => {
    assert.throws(() => renderRawRules(['accept; flush ruleset']), /';'/);
    assert.throws(() => renderRawRules(['policy accept']), /not a rule/);
  });
});

describe('small renderers', () => {
  it('a keyfile refuses an interface name that could change the file', () => {
    assert.throws(() => renderKeyfile(nic({ name: 'eth0\n[ipv4]' }), { hostname: 'h', routes: [] }), /interface name/);
  });

  it('connection UUIDs are stable, distinct per NIC, and RFC 4122 shaped', () => {
    assert.equal(connectionUuid('h', 'eth0'), connectionUuid('h', 'eth0'));
    assert.notEqual(connectionUuid('h', 'eth0'), connectionUuid('h', 'eth1'));
    assert.match(connectionUuid('h', 'eth0'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('NetworkManager.conf says nothing when nothing differs from the defaults', () => {
    assert.equal(renderNmConf({ unmanaged: [], ownResolvConf: false }), undefined);
    assert.match(renderNmConf({ unmanaged: [], ownResolvConf: true })!, /^dns=none$/m);
  });

  it('locale and keyboard', () => {
    assert.equal(langpackFor('en_US.UTF-8'), 'glibc-langpack-en');
    assert.equal(renderVconsoleConf('de(nodeadkeys)'), 'KEYMAP=de-nodeadkeys\n');
  });

  it('the zone file is where the configurator says', () => {
    assert.equal(ZONE_FILE, '/etc/firewalld/zones/vmgen.xml');
  });
});

describe('vmgen render', () => {
  it('writes the RedHat files for review: keyfiles, the zone, the raw rules, the dnf package names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-rh-render-'));
    try {
      const out = join(dir, 'out');
      const r = await runCli('vmgen', ['render', CONFIG, '--target', 'qemu', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      const read = (p: string): string => readFileSync(join(out, p), 'utf8');
      assert.equal(read('guest/etc/firewalld/zones/vmgen.xml'), renderZone(webSpec().openPorts));
      assert.match(read('guest/etc/NetworkManager/system-connections/eth0.nmconnection'), /^address1=192\.168\.1\.2\/24,192\.168\.1\.1$/m);
      assert.match(read('guest/etc/vmgen/raw-rules.nft'), /tcp dport 2323 drop/);
      assert.match(read('packages.txt'), /^firewalld$/m);
      assert.match(read('guest-commands.txt'), /^systemctl enable firewalld NetworkManager vmgen-raw-rules sshd httpd$/m);
      assert.doesNotMatch(read('guest-commands.txt'), /alesia/);
      // A VM's kernel by Fedora's names, dracut's settings, and the step that puts the kernel in /boot.
      for (const pkg of ['kernel-core', 'dracut', 'systemd-udev', 'dosfstools']) assert.match(read('packages.txt'), new RegExp(`^${pkg}$`, 'm'));
      assert.doesNotMatch(read('packages.txt'), /linux-image|initramfs-tools/);
      assert.equal(read(`guest${DRACUT_CONF}`), renderDracutConf());
      includesAll(read('guest-commands.txt'), [KERNEL_FINISH_SCRIPT.split('\n')[0]!]);
      assert.match(read('target/partitions/fstab'), /^UUID=\S+ \/ ext4 /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
