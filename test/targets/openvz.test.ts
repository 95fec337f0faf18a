import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { ResolvedNic, ResolvedSpec } from '../../src/config/resolve.js';
import { openvzGuestConfiguresNic, ostemplateName, renderCtidConf, renderOpenvz } from '../../src/targets/openvz/render.js';
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
    assert.ok(dhcp, 'dhcp');
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
    assert.ok(guest?.content.split('\n').every((l) => l === '' || l.startsWith('#')), "guest?.content.split('\\n').every((l) => l === '' || l.startsWith('#'))");
  });
});
