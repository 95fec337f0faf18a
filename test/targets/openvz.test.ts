import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { everyItem } from '../helpers/assert-values.js';
import { spawnSync } from 'node:child_process';
import type { ResolvedNic, ResolvedSpec } from '../../src/config/resolve.js';
import { loadCatalogs } from '../../src/catalog/load.js';
import { VZCTL_DISTS, openvzGuestConfiguresNic, ostemplateName, renderCtidConf, renderOpenvz, vzctlDist } from '../../src/targets/openvz/render.js';
import { assertGolden } from '../helpers/golden.js';
import { CASE_NAMES, specFor } from './specs.js';

const OPTS = { ctid: 101, ostemplate: 'debian-12-x86_64-vmgen-web1' };

function settings(conf: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of conf.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z_]+)="([^"]*)"$/.exec(line);
    assert.ok(m, `not a KEY="value" line: ${JSON.stringify(line)}`);
    out.set(m[1] ?? '', m[2] ?? '');
  }
  return out;
}

const STATIC: ResolvedNic = {
  name: 'eth0', index: 0, link: 'nat', connected: true, mode: 'static', dns: [],
  address: '10.0.3.20', prefix: 24, netmask: '255.255.255.0', networkAddress: '10.0.3.0',
};

describe('OpenVZ golden files', () => {
  for (const name of CASE_NAMES) {
    it(`renders ${name}`, () => {
      const spec = specFor(name, 'openvz');
      const render = renderOpenvz(spec, { ctid: 101, ostemplate: ostemplateName(spec) });
      assert.deepEqual(render.archiveFiles.map((f) => f.path), ['101.conf']);
      for (const f of render.archiveFiles) assertGolden(`openvz/${name}/${f.path}`, f.content);
    });
  }
});

describe('renderCtidConf', () => {
  const web = specFor('web', 'openvz');

  it('names the template distro-version-arch-vmgen-NAME', () => {
    assert.equal(ostemplateName(web), 'debian-12-x86_64-vmgen-web1');
    assert.equal(ostemplateName({ ...web, os: { ...web.os, arch: 'i386', bits: 32 } }), 'debian-12-x86-vmgen-web1');
  });

  it('names Rocky and Alma templates so that vzctl finds distribution scripts for them', () => {
    // vzctl src/lib/dist.c, get_dist_conf_name: OSTEMPLATE (or DISTRIBUTION) names /etc/vz/dists/NAME.conf;
    // when there is none, vzctl drops the last "-part" and tries again, and in the end warns and
    // takes "default". The files that exist are the ones etc/dists/Makefile.am installs
    // (install-data-hook): no rocky or alma among them, but rhel and centos (both redhat.conf).
    const installed = new Set([
      ...VZCTL_DISTS, 'altlinux-2.4', 'debian-3.0', 'debian-3.1', 'redhat-7.0', 'redhat-7.1', 'redhat-7.2', 'redhat-7.3',
      'slackware-9.0', 'slackware-9.1', 'suse-7.3', 'suse-8.0', 'suse-8.1', 'suse-8.2', 'ubuntu-6.06',
    ].map((d) => `${d}.conf`));
    const distConf = (ostemplate: string): string => {
      let name = ostemplate;
      for (;;) {
        if (installed.has(`${name}.conf`)) return `${name}.conf`;
        const dash = name.lastIndexOf('-');
        if (dash <= 0) return 'default';
        name = name.slice(0, dash);
      }
    };
    assert.equal(distConf('rocky-9-x86_64-vmgen-web1'), 'default', 'the old name fell through to default');
    const expected: Record<string, string> = { debian: 'debian.conf', ubuntu: 'ubuntu.conf', fedora: 'fedora.conf', rocky: 'rhel.conf', alma: 'rhel.conf' };
    for (const os of loadCatalogs({ env: {} }).os.filter((o) => o.family !== 'windows')) {
      const name = ostemplateName({ ...web, os });
      assert.equal(distConf(name), expected[os.distribution], `${os.id}: ${name}`);
      assert.ok(name.includes(`-${os.distribution}-`) || name.startsWith(`${os.distribution}-`), `${name} still names ${os.distribution}`);
    }
    const rocky = loadCatalogs({ env: {} }).os.find((o) => o.id === 'rocky9-64');
    assert.ok(rocky, 'rocky9-64 is in the catalog');
    assert.equal(ostemplateName({ ...web, os: rocky }), 'rhel-9-x86_64-rocky-vmgen-web1');
    assert.equal(vzctlDist(rocky), 'rhel');
    assert.throws(() => vzctlDist({ ...rocky, distribution: 'windows', like: [] }), /no distribution scripts/);
  });

  it('maps the machine onto ctid.conf(5) parameters', () => {
    const conf = settings(renderCtidConf(web, OPTS));
    assert.equal(conf.get('HOSTNAME'), 'web1');
    assert.equal(conf.get('OSTEMPLATE'), 'debian-12-x86_64-vmgen-web1');
    assert.equal(conf.get('VE_LAYOUT'), 'simfs');
    assert.equal(conf.get('VE_ROOT'), '/vz/root/$VEID');
    assert.equal(conf.get('VE_PRIVATE'), '/vz/private/$VEID');
    assert.equal(conf.get('CPUS'), '2');
    assert.equal(conf.get('PHYSPAGES'), '0:1024M');
    assert.equal(conf.get('DISKSPACE'), '4096M:4506M');
    assert.equal(conf.get('IP_ADDRESS'), '192.168.1.2');
    assert.equal(conf.get('NAMESERVER'), '192.168.1.254');
    assert.equal(conf.has('NETIF'), false);
  });

  it('puts DHCP NICs on veth (NETIF) for the guest to configure, static ones on venet', () => {
    const conf = settings(renderCtidConf(specFor('two-nics', 'openvz'), OPTS));
    assert.equal(conf.get('IP_ADDRESS'), '192.168.1.2');
    assert.equal(conf.get('NETIF'), 'ifname=eth1,mac=00:50:56:00:10:02,host_ifname=veth101.1,bridge=br0');
    const dhcp = specFor('two-nics', 'openvz').nics[1];
    assert.ok(dhcp, 'the two-nics example has a second NIC');
    assert.equal(openvzGuestConfiguresNic(dhcp), true);
    assert.equal(openvzGuestConfiguresNic(STATIC), false);
  });

  it('writes no network and no disk quota for a machine without NICs or disks', () => {
    const conf = settings(renderCtidConf(specFor('no-nic', 'openvz'), { ...OPTS, ostemplate: 'debian-12-x86_64-vmgen-bare' }));
    for (const key of ['IP_ADDRESS', 'NETIF', 'NAMESERVER', 'DISKSPACE', 'DISKINODES']) assert.equal(conf.has(key), false, key);
  });

  it('leaves disconnected NICs out', () => {
    const conf = settings(renderCtidConf({ ...web, nics: [{ ...STATIC, connected: false }] }, OPTS));
    assert.equal(conf.has('IP_ADDRESS'), false);
  });

  it('rejects every value a shell would interpret, instead of escaping it', () => {
    const evil = ['web1"; reboot; "', 'a$(reboot)', 'a`reboot`', '$HOME', 'a\\b', "it's", 'a\nONBOOT="yes"', 'a!b', 'a|b', 'a>b'];
    for (const hostname of evil) {
      assert.throws(() => renderCtidConf({ ...web, hostname }, OPTS), /HOSTNAME: .* a shell would interpret/, JSON.stringify(hostname));
    }
    assert.throws(() => renderCtidConf({ ...web, dns: ['1.1.1.1"$x'] }, OPTS), /NAMESERVER/);
    assert.throws(() => renderCtidConf({ ...web, os: { ...web.os, label: 'Debian\nONBOOT="yes"' } }, OPTS), /line break/);
  });

  it('rejects template names that are not plain file names', () => {
    for (const ostemplate of ['../etc/passwd', 'a"b', 'a b', '', '-rf']) {
      assert.throws(() => renderCtidConf(web, { ...OPTS, ostemplate }), /OSTEMPLATE/, ostemplate);
    }
    assert.throws(() => ostemplateName({ ...web, name: 'a/b' }), /template name/);
  });

  it('accepts only CTIDs from 101 up', () => {
    for (const ctid of [0, 100, -1, 101.5, Number.NaN, 2 ** 31]) assert.throws(() => renderCtidConf(web, { ...OPTS, ctid }), /CTID/, String(ctid));
    assert.doesNotThrow(() => renderCtidConf(web, { ...OPTS, ctid: 2147483647 }));
  });

  it('reads back unchanged when a shell sources it, as vzctl\'s scripts do', (t) => {
    if (spawnSync('bash', ['--version']).status !== 0) {
      t.skip('bash is not installed');
      return;
    }
    const text = renderCtidConf(specFor('two-nics', 'openvz'), OPTS);
    const expected = settings(text);
    const keys = [...expected.keys()];
    const script = `VEID=101\n${text}\nfor k in ${keys.join(' ')}; do printf '%s=%s\\n' "$k" "\${!k}"; done\n`;
    const r = spawnSync('bash', ['--noprofile', '--norc', '-s'], { input: script, encoding: 'utf8', env: {} });
    assert.equal(r.status, 0, r.stderr);
    const seen = new Map(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    for (const [k, v] of expected) assert.equal(seen.get(k), v.replace('$VEID', '101'), k);
  });
});

describe('OpenVZ guest files', () => {
  it('the guest gets a comment-only /etc/fstab', () => {
    const spec: ResolvedSpec = specFor('web', 'openvz');
    const [guest] = renderOpenvz(spec, OPTS).guestFiles;
    assert.equal(guest?.path, '/etc/fstab');
    everyItem(guest?.content.split('\n') ?? [], (l) => l === '' || l.startsWith('#'));
  });
});
