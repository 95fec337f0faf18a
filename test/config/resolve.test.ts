import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { resolveSpec, type ResolvedSpec } from '../../src/config/resolve.js';

const catalogs = loadCatalogs({ env: {} });
const WEB = readFileSync(new URL('../../examples/debian-web.conf', import.meta.url), 'utf8');

function resolve(text: string, defaultMirror = 'http://mirror.example/debian/', target = 'lxc'): ResolvedSpec {
  const loaded = loadConfig(text, { catalogs });
  assert.ok(loaded.config, `the config loads: ${JSON.stringify(loaded.diagnostics)}`);
  assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
  return resolveSpec(loaded.config, catalogs, { target, defaultMirror });
}

describe('resolveSpec on examples/debian-web.conf', () => {
  const spec = resolve(WEB);

  it('names the machine and takes the OS, target and sizes', () => {
    assert.equal(spec.name, 'web1');
    assert.equal(spec.hostname, 'web1');
    assert.equal(spec.target, 'lxc');
    assert.equal(spec.os.id, 'debian12-64');
    assert.equal(spec.cpus, 2);
    assert.equal(spec.ramMiB, 1024);
    assert.equal(spec.diskMiB, 4096);
  });

  it('resolves the NIC: hardware link and MAC, static address with prefix, netmask and network address', () => {
    assert.deepEqual(spec.nics, [{
      name: 'eth0', index: 0, link: 'nat', connected: true, mac: '00:50:56:00:10:01',
      mode: 'static', address: '192.168.1.2', prefix: 24, netmask: '255.255.255.0', networkAddress: '192.168.1.0', dns: [],
    }]);
    assert.equal(spec.gateway, '192.168.1.1');
    assert.deepEqual(spec.dns, ['192.168.1.254']);
  });

  it('resolves groups and users, with the default home and the configured shell', () => {
    assert.deepEqual(spec.groups, ['julius', 'vmg']);
    assert.deepEqual(spec.users, [
      { name: 'caesar', password: { plain: 'alesia' }, groups: ['julius', 'sudo'], home: '/home/caesar', shell: '/bin/bash', sshKeys: [] },
      { name: 'vv', password: { plain: 'pass' }, groups: ['vmg'], home: '/home/vv', shell: '/bin/bash', sshKeys: [] },
    ]);
    assert.deepEqual(spec.rootPassword, { plain: 'change-me' });
  });

  it('turns apps into sorted Debian packages and services in app order', () => {
    assert.deepEqual(spec.apps.map((a) => `${a.category}/${a.name}`), ['devel/vim', 'devel/git', 'services/sshd', 'services/httpd']);
    assert.deepEqual(spec.appPackages, ['apache2', 'git', 'openssh-server', 'vim']);
    assert.deepEqual(spec.appServices, ['ssh', 'apache2']);
  });

  it('keeps ports, settings and empty lists', () => {
    assert.deepEqual(spec.openPorts, [
      { proto: 'tcp', from: 22, to: 22, description: 'ssh' },
      { proto: 'tcp', from: 80, to: 80, description: 'web' },
    ]);
    assert.equal(spec.timezone, 'Europe/Bucharest');
    assert.equal(spec.locale, 'en_US.UTF-8');
    assert.equal(spec.keyboard, undefined);
    assert.equal(spec.bashCompletion, true);
    assert.deepEqual([spec.routes, spec.rawRules, spec.repos], [[], [], []]);
  });

  it('uses the default mirror without its trailing slash', () => {
    assert.equal(spec.mirror, 'http://mirror.example/debian');
  });

  it("prefers [config] mirror over the default, also trimmed", () => {
    const text = WEB.replace('    hostname = web1\n', '    hostname = web1\n    mirror = http://mirror.example/debian-local//\n');
    assert.notEqual(text, WEB);
    assert.equal(resolve(text).mirror, 'http://mirror.example/debian-local');
  });

  it('is pure: the same config resolves to the same spec', () => {
    assert.deepEqual(resolve(WEB), spec);
    assert.equal(resolve(WEB, 'http://mirror.example/debian', 'oci').target, 'oci');
  });
});

describe('resolveSpec defaults', () => {
  it('names a machine without vm_id after its hostname, and one without either "vmgen"', () => {
    const noId = WEB.replace('    vm_id = web1\n', '').replace('hostname = web1', 'hostname = www');
    assert.deepEqual([resolve(noId).name, resolve(noId).hostname], ['www', 'www']);
    const neither = WEB.replace('    vm_id = web1\n', '').replace('    hostname = web1\n', '');
    assert.deepEqual([resolve(neither).name, resolve(neither).hostname], ['vmgen', 'vmgen']);
  });

  it('gives a user without shell /bin/bash and honours home_dir', () => {
    const text = WEB.replace('            shell = /bin/bash\n', '            home_dir = /srv/caesar\n');
    const caesar = resolve(text).users[0]!;
    assert.equal(caesar.home, '/srv/caesar');
    assert.equal(caesar.shell, '/bin/bash');
  });
});
