import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VmgenError } from '../../src/errors.js';
import { bridgeArgvs, inNetnsArgv, netnsName, NETNS_OUTER_SCRIPT, tapArgvs } from '../../src/lab/run/netns.js';
import { relocateLxcConfig } from '../../src/lab/run/runtimes/containers.js';

describe('the lab namespace as argument arrays', () => {
  it('names the namespace after the lab and refuses names that are not lab names', () => {
    assert.equal(netnsName('net101'), 'vmgen-net101', 'namespace');
    for (const bad of ['Net101', '-x', 'a b', 'a/b', '']) assert.throws(() => netnsName(bad), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_LAB_RUN', `refuses ${JSON.stringify(bad)}`);
  });
  it('makes bridges and taps inside the namespace only (ip -n)', () => {
    for (const argv of [...bridgeArgvs('vmgen-net101', 'vl5c7d30d1'), ...tapArgvs('vmgen-net101', 'vt0gw0', 'vl5c7d30d1')]) {
      assert.deepEqual(argv.slice(0, 3), ['ip', '-n', 'vmgen-net101'], `${argv.join(' ')} runs in the namespace`);
    }
    assert.throws(() => bridgeArgvs('vmgen-net101', 'a-bridge-name-too-long'), VmgenError, 'Linux allows 15 characters');
    assert.throws(() => tapArgvs('vmgen-net101', 'tap;rm', 'br0'), VmgenError, 'no shell characters');
  });
  it('hands paths and the command to the constant script as arguments, never as code', () => {
    const argv = inNetnsArgv('/run/netns/vmgen-x', '/st/.cgroup-aside', ['lxc-start', '-n', 'a;b', '-P', '/st/$(x)']);
    assert.deepEqual(argv.slice(0, 7), ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c'], 'a private mount namespace');
    assert.equal(argv[7], NETNS_OUTER_SCRIPT, 'the script is the constant');
    assert.deepEqual(argv.slice(9), ['/st/.cgroup-aside', '/run/netns/vmgen-x', 'lxc-start', '-n', 'a;b', '-P', '/st/$(x)'], 'values follow as $1…');
  });
});

describe('relocating an unpacked LXC config', () => {
  const config = [
    'lxc.uts.name = gw',
    'lxc.rootfs.path = overlay:/var/lib/vmgen/labs/net101/bases/b1/rootfs:/var/lib/vmgen/labs/net101/machines/gw/delta',
    'lxc.mount.fstab = /var/lib/vmgen/labs/net101/machines/gw/fstab',
    'lxc.net.0.link = vl5c7d30d1',
  ].join('\n');
  it('moves the root and fstab paths to where the lab is unpacked', () => {
    const out = relocateLxcConfig(config, '/var/lib/vmgen/labs/net101', '/tmp/s/net101').split('\n');
    assert.equal(out[1], 'lxc.rootfs.path = overlay:/tmp/s/net101/bases/b1/rootfs:/tmp/s/net101/machines/gw/delta', 'both overlay layers');
    assert.equal(out[2], 'lxc.mount.fstab = /tmp/s/net101/machines/gw/fstab', 'fstab');
    assert.equal(out[3], 'lxc.net.0.link = vl5c7d30d1', 'other lines unchanged');
  });
  it('leaves a config unpacked where it was built for alone, and never a mere prefix of a name', () => {
    assert.equal(relocateLxcConfig(config, '/var/lib/vmgen/labs/net101', '/var/lib/vmgen/labs/net101'), config, 'same place');
    assert.equal(relocateLxcConfig('lxc.mount.fstab = /var/lib/vmgen/labs/net1010/fstab', '/var/lib/vmgen/labs/net101', '/x'), 'lxc.mount.fstab = /var/lib/vmgen/labs/net1010/fstab', 'net1010 is not under net101');
  });
});

describe('VM NICs on taps', () => {
  it('names taps by position, short enough for Linux, and hands qemu each with the lab MAC', async () => {
    const { tapName, tapNicArgs } = await import('../../src/lab/run/runtimes/vms.js');
    assert.equal(tapName(12, 3), 'vt12n3', 'vt<machine>n<nic>');
    assert.deepEqual(tapNicArgs([{ tap: 'vt0n0', mac: '52:54:00:f7:68:48' }, { tap: 'vt0n1', mac: '52:54:00:ae:c4:14' }]), [
      '-netdev', 'tap,id=n0,ifname=vt0n0,script=no,downscript=no', '-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:f7:68:48',
      '-netdev', 'tap,id=n1,ifname=vt0n1,script=no,downscript=no', '-device', 'virtio-net-pci,netdev=n1,mac=52:54:00:ae:c4:14',
    ], 'eth0, eth1 in order: the guest names them by PCI order');
  });
});

describe('start order', () => {
  it('starts routers and DNS/DHCP servers first, then the rest, each in lab order', async () => {
    const { startStages } = await import('../../src/lab/run/state.js');
    const spec = (services: object) => ({ provision: { files: [], scripts: [], services } }) as unknown as import('../../src/config/resolve.js').ResolvedSpec;
    const stages = startStages([
      { name: 'pc1', spec: spec({}) }, { name: 'dns', spec: spec({ dns: { forwarders: [], zones: [] } }) },
      { name: 'web', spec: spec({ web: { sites: [] } }) }, { name: 'gw', spec: spec({ router: { forward: ['eth1'] } }) },
    ]);
    assert.deepEqual(stages, [['dns', 'gw'], ['pc1', 'web']], 'servers first');
    assert.deepEqual(startStages([{ name: 'pc1', spec: spec({}) }]), [['pc1']], 'no empty stage');
  });
});
