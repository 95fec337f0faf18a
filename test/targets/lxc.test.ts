import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { everyItem } from '../helpers/assert-values.js';
import type { ResolvedNic, ResolvedSpec } from '../../src/config/resolve.js';
import { lxcGuestConfiguresNic, renderLxc, renderLxcConfig, renderLxcExcludesUser, renderLxcFstab, renderLxcImageConfig } from '../../src/targets/lxc/render.js';
import { assertGolden } from '../helpers/golden.js';
import { CASE_NAMES, specFor } from './specs.js';

// Every key vmgen writes, all from lxc.container.conf(5) of LXC 5; LXC 1's lxc.utsname, lxc.rootfs
// and lxc.network.* would make LXC 5 refuse the file.
const LXC5_KEY = /^lxc\.(include|arch|uts\.name|rootfs\.path|mount\.fstab|apparmor\.profile|apparmor\.allow_nesting|cgroup2\.(memory\.max|cpu\.max)|net\.\d+\.(type|link|name|hwaddr|flags|ipv4\.address|ipv4\.gateway))$/;

function settings(config: string): Array<[string, string]> {
  return config
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\S+) = (.*)$/.exec(l);
      assert.ok(m, `not a "key = value" line: ${JSON.stringify(l)}`);
      return [m[1] ?? '', m[2] ?? ''];
    });
}

function values(config: string, key: string): string[] {
  return settings(config).filter(([k]) => k === key).map(([, v]) => v);
}

function withNics(spec: ResolvedSpec, nics: ResolvedNic[], gateway?: string): ResolvedSpec {
  const copy: ResolvedSpec = { ...spec, nics };
  if (gateway === undefined) delete copy.gateway;
  else copy.gateway = gateway;
  return copy;
}

const STATIC: ResolvedNic = {
  name: 'eth0', index: 0, link: 'nat', connected: true, mode: 'static', dns: [],
  address: '10.0.3.20', prefix: 24, netmask: '255.255.255.0', networkAddress: '10.0.3.0',
};
const DHCP: ResolvedNic = { name: 'eth1', index: 1, link: 'bridged', connected: true, mode: 'dhcp', dns: [] };

describe('LXC golden files', () => {
  for (const name of CASE_NAMES) {
    it(`renders ${name}`, () => {
      const render = renderLxc(specFor(name, 'lxc'));
      for (const f of render.archiveFiles) assertGolden(`lxc/${name}/${f.path}`, f.content);
      assert.deepEqual(render.archiveFiles.map((f) => f.path), ['config', 'fstab', 'meta/config', 'meta/config-user', 'meta/fstab', 'meta/create-message']);
    });
  }
});

describe('renderLxcConfig', () => {
  const web = specFor('web', 'lxc');

  it('writes only LXC 5 keys, one "key = value" per line', () => {
    for (const name of CASE_NAMES) {
      for (const [key] of settings(renderLxcConfig(specFor(name, 'lxc')))) assert.match(key, LXC5_KEY);
    }
  });

  it('uses absolute paths inside the container directory: LXC resolves nothing relative', () => {
    const config = renderLxcConfig(web);
    assert.deepEqual(values(config, 'lxc.rootfs.path'), ['dir:/var/lib/lxc/web1/rootfs']);
    assert.deepEqual(values(config, 'lxc.mount.fstab'), ['/var/lib/lxc/web1/fstab']);
    const elsewhere = renderLxcConfig(web, { lxcPath: '/srv/lxc/' });
    assert.deepEqual(values(elsewhere, 'lxc.rootfs.path'), ['dir:/srv/lxc/web1/rootfs']);
    assert.match(elsewhere, /lxc-start -n web1 -P \/srv\/lxc/);
  });

  it('refuses an lxcPath that is relative or holds whitespace', () => {
    assert.throws(() => renderLxcConfig(web, { lxcPath: 'containers' }), /absolute/);
    assert.throws(() => renderLxcConfig(web, { lxcPath: '/srv/my containers' }), /absolute path without whitespace/);
  });

  it('maps the machine: hostname, architecture, the common include, limits', () => {
    const config = renderLxcConfig(web);
    assert.deepEqual(values(config, 'lxc.uts.name'), ['web1']);
    assert.deepEqual(values(config, 'lxc.arch'), ['x86_64']);
    assert.deepEqual(values(config, 'lxc.include'), ['/usr/share/lxc/config/common.conf']);
    assert.deepEqual(values(config, 'lxc.cgroup2.memory.max'), ['1024M']);
    assert.deepEqual(values(config, 'lxc.cgroup2.cpu.max'), ['200000 100000']);
    assert.deepEqual(values(config, 'lxc.apparmor.profile'), ['generated']);
  });

  it('maps links to bridges: nat to lxcbr0, bridged to br0, host-only to none', () => {
    const nics: ResolvedNic[] = [
      { ...DHCP, name: 'eth0', index: 0, link: 'nat' },
      { ...DHCP, name: 'eth1', index: 1, link: 'bridged' },
      { ...DHCP, name: 'eth2', index: 2, link: 'hostonly' },
    ];
    const config = renderLxcConfig(withNics(web, nics));
    assert.deepEqual(values(config, 'lxc.net.0.link'), ['lxcbr0']);
    assert.deepEqual(values(config, 'lxc.net.1.link'), ['br0']);
    assert.deepEqual(values(config, 'lxc.net.2.link'), []);
    assert.deepEqual(values(config, 'lxc.net.2.type'), ['veth']);
  });

  it('sets static addresses and leaves DHCP NICs to the guest', () => {
    const config = renderLxcConfig(specFor('two-nics', 'lxc'));
    assert.deepEqual(values(config, 'lxc.net.0.ipv4.address'), ['192.168.1.2/24 192.168.1.255']);
    assert.deepEqual(values(config, 'lxc.net.0.ipv4.gateway'), ['192.168.1.1']);
    assert.deepEqual(values(config, 'lxc.net.1.ipv4.address'), []);
    assert.deepEqual(values(config, 'lxc.net.1.flags'), ['up']);
    assert.equal(lxcGuestConfiguresNic(DHCP), true);
    assert.equal(lxcGuestConfiguresNic(STATIC), false);
  });

  it('gives the default route to one NIC only, and only through a gateway in its subnet', () => {
    const second: ResolvedNic = { ...STATIC, name: 'eth1', index: 1, address: '10.0.4.20', networkAddress: '10.0.4.0', gateway: '10.0.4.1' };
    const both = renderLxcConfig(withNics(web, [{ ...STATIC, gateway: '10.0.3.1' }, second]));
    assert.deepEqual(values(both, 'lxc.net.0.ipv4.gateway'), ['10.0.3.1']);
    assert.deepEqual(values(both, 'lxc.net.1.ipv4.gateway'), []);
    const systemGateway = renderLxcConfig(withNics(web, [STATIC, second], '10.0.4.254'));
    assert.deepEqual(values(systemGateway, 'lxc.net.0.ipv4.gateway'), []);
    assert.deepEqual(values(systemGateway, 'lxc.net.1.ipv4.gateway'), ['10.0.4.1']);
    const outside = renderLxcConfig(withNics(web, [STATIC], '192.168.9.1'));
    assert.deepEqual(values(outside, 'lxc.net.0.ipv4.gateway'), []);
  });

  it('leaves a disconnected NIC down', () => {
    const config = renderLxcConfig(withNics(web, [{ ...STATIC, connected: false }]));
    assert.deepEqual(values(config, 'lxc.net.0.flags'), []);
    assert.deepEqual(values(config, 'lxc.net.0.type'), ['veth']);
  });

  it('gives a machine without NICs a loopback-only network, never the host\'s', () => {
    const config = renderLxcConfig(specFor('no-nic', 'lxc'));
    assert.deepEqual(settings(config).filter(([k]) => k.startsWith('lxc.net.')), [['lxc.net.0.type', 'empty']]);
  });

  it('netTypeOverride empty replaces every NIC with loopback only', () => {
    const config = renderLxcConfig(specFor('two-nics', 'lxc'), { netTypeOverride: 'empty' });
    assert.deepEqual(settings(config).filter(([k]) => k.startsWith('lxc.net.')), [['lxc.net.0.type', 'empty']]);
  });

  it('netTypeOverride veth keeps the NICs and their addresses but joins no bridge', () => {
    const config = renderLxcConfig(specFor('two-nics', 'lxc'), { netTypeOverride: 'veth' });
    assert.deepEqual(settings(config).filter(([k]) => k.endsWith('.link')), []);
    assert.deepEqual(values(config, 'lxc.net.0.ipv4.address'), ['192.168.1.2/24 192.168.1.255']);
    assert.deepEqual(values(config, 'lxc.net.1.type'), ['veth']);
  });

  it('refuses values that would add lines to the config', () => {
    assert.throws(() => renderLxcConfig({ ...web, hostname: 'web1\nlxc.rootfs.path = /' }), /line break/);
    assert.throws(() => renderLxcConfig({ ...web, name: '../web1' }), /cannot name an LXC container/);
  });
});

describe('container fstabs', () => {
  it('the LXC fstab holds comments only: LXC mounts /proc, /sys and /dev itself', () => {
    const fstab = renderLxcFstab(specFor('web', 'lxc'));
    everyItem(fstab.split('\n'), (l) => l === '' || l.startsWith('#'));
  });

  it('the guest gets a comment-only /etc/fstab instead of a VM one', () => {
    const [guest, ...rest] = renderLxc(specFor('web', 'lxc')).guestFiles;
    assert.equal(rest.length, 0);
    assert.equal(guest?.path, '/etc/fstab');
    everyItem(guest?.content.split('\n') ?? [], (l) => l === '' || l.startsWith('#'));
  });
});

/*
 * The LXC image for `lxc-create -t local`, read against lxc/lxc templates/lxc-local.in (LXC 5.0):
 * it untars the metadata with `tar Jxf` and the root file system with `tar --anchored EXCLUDES
 * --numeric-owner -xpJf` (xz only); reads `config` (`config-user` for an unprivileged container,
 * relevant_file()), appends it to the container's config, then itself adds lxc.rootfs.path,
 * `lxc.mount.fstab = LXC_PATH/fstab` when the image has an `fstab`, and `lxc.uts.name = NAME`; the
 * lxc.net.0 lines lxc-create took from the host's default.conf go last; LXC_NAME, LXC_PATH,
 * LXC_ROOTFS, LXC_TEMPLATE_CONFIG and LXC_HOOK_DIR are replaced in the config and the fstab by sed;
 * `excludes-user` lines become --exclude options; `create-message` is printed.
 */
describe('LXC image metadata (lxc-local)', () => {
  const meta = (name: (typeof CASE_NAMES)[number]) => renderLxc(specFor(name, 'lxc')).archiveFiles.filter((f) => f.path.startsWith('meta/'));

  it('names no path, no container name and no hostname key: lxc-local adds lxc.rootfs.path, lxc.mount.fstab and lxc.uts.name', () => {
    for (const name of CASE_NAMES) {
      for (const f of meta(name).filter((m) => m.path.startsWith('meta/config'))) {
        const keys = settings(f.content).map(([k]) => k);
        for (const key of ['lxc.rootfs.path', 'lxc.mount.fstab', 'lxc.uts.name']) assert.ok(!keys.includes(key), `${name} ${f.path} leaves ${key} to lxc-local`);
        for (const key of keys) assert.match(key, LXC5_KEY);
        assert.doesNotMatch(f.content, /\/var\/lib\/lxc/, `${name} ${f.path} names no lxcpath`);
      }
    }
  });

  it('includes common.conf through LXC_TEMPLATE_CONFIG, which lxc-local replaces; config-user adds userns.conf', () => {
    const web = specFor('web', 'lxc');
    assert.deepEqual(values(renderLxcImageConfig(web), 'lxc.include'), ['LXC_TEMPLATE_CONFIG/common.conf']);
    assert.deepEqual(values(renderLxcImageConfig(web, { user: true }), 'lxc.include'), ['LXC_TEMPLATE_CONFIG/common.conf', 'LXC_TEMPLATE_CONFIG/userns.conf']);
  });

  it('carries the machine\'s network, limits and architecture like the unpacked config', () => {
    const spec = specFor('two-nics', 'lxc');
    const unpacked = settings(renderLxcConfig(spec)).filter(([k]) => !['lxc.rootfs.path', 'lxc.mount.fstab', 'lxc.uts.name', 'lxc.include'].includes(k));
    const image = settings(renderLxcImageConfig(spec)).filter(([k]) => k !== 'lxc.include');
    assert.deepEqual(image, unpacked);
  });

  it('holds the files relevant_file() looks for, and an fstab so that lxc-local sets lxc.mount.fstab', () => {
    assert.deepEqual(meta('web').map((f) => f.path), ['meta/config', 'meta/config-user', 'meta/fstab', 'meta/create-message']);
  });

  it('the create message says how to start it and why -f /dev/null', () => {
    const message = meta('web').find((f) => f.path === 'meta/create-message')!.content;
    assert.match(message, /lxc-start -n NAME -P DIR/);
    assert.match(message, /-f \/dev\/null/);
  });

  it('excludes-user lists device nodes as ./paths, one per line, for tar --anchored', () => {
    assert.equal(renderLxcExcludesUser(['dev/null', '/dev/pts/ptmx']), './dev/null\n./dev/pts/ptmx\n');
    assert.equal(renderLxcExcludesUser([]), '');
  });
});
