import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { resolveSpec, type ResolvedSpec } from '../../src/config/resolve.js';
import { DEBIAN_NET } from '../../src/families/debian/services/net.js';
import { linuxServiceChecks } from '../../src/families/linux/services/checks.js';
import { listeners, listensOn } from '../../src/families/linux/services/dhcp-checks.js';
import { digArgv, expandIPv6, sameRdata } from '../../src/families/linux/services/dns-checks.js';
import { REDHAT_NET } from '../../src/families/redhat/services/net.js';
import { formatResults, runChecks, verifyChecks, type VerifyOptions } from '../../src/verify/checks.js';
import { loadConfig } from '../../src/validate/load.js';
import { FakeCommunicator } from '../helpers/fake-communicator.js';
import { includesAll } from '../helpers/assert-values.js';

/*
 * vmgen verify's checks of the DNS, DHCP and router services, against a guest in a box: replies
 * as the lab gateway gave them under lxc-start (dig, ss, nft), then each one broken.
 */

const catalogs = loadCatalogs({ env: {} });
const FIXTURE = fileURLToPath(new URL('../fixtures/services/lab-router.conf', import.meta.url));

function labSpec(os = 'debian12-64'): ResolvedSpec {
  const text = readFileSync(FIXTURE, 'utf8').replace(/^(\s*os = ).*$/m, `$1${os}`);
  const loaded = loadConfig(text, { catalogs });
  if (loaded.config === undefined) throw new Error(`the lab fixture does not load: ${JSON.stringify(loaded.diagnostics)}`);
  return resolveSpec(loaded.config, catalogs, { target: 'lxc', defaultMirror: 'http://mirror.example/debian' });
}

const BOOTED: VerifyOptions = { booted: true, addressesInGuest: true, activeTimeoutMs: 0, pollIntervalMs: 0 };
const OFFLINE: VerifyOptions = { booted: false, addressesInGuest: false };

const KEA_SS = 'UNCONN 0      0           10.0.1.1:67        0.0.0.0:*    users:(("kea-dhcp4",pid=204,fd=15))\n';
const NAT_RULESET = 'table ip nat {\n\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\toifname "eth0" masquerade\n\t}\n}\n';

/** The lab gateway's answers, as it gave them booted. */
function healthyGuest(): FakeCommunicator {
  const comm = new FakeCommunicator()
    .on(['named-checkconf', '-z', '/etc/bind/named.conf'], { stdout: 'zone lab.example/IN: loaded serial 1141805957\n' })
    .on(digArgv('lab.example', 'NS'), { stdout: 'gw.lab.example.\n' })
    .on(digArgv('lab.example', 'A'), { stdout: '10.0.1.1\n' })
    .on(digArgv('lab.example', 'MX'), { stdout: '10 gw.lab.example.\n' })
    .on(digArgv('lab.example', 'TXT'), { stdout: '"v=spf1 -all"\n' })
    .on(digArgv('gw.lab.example', 'A'), { stdout: '10.0.1.1\n' })
    .on(digArgv('www.lab.example', 'A'), { stdout: '10.0.1.1\n' })
    .on(digArgv('www.lab.example', 'AAAA'), { stdout: 'fd00:1::1\n' })
    .on(digArgv('mail.lab.example', 'CNAME'), { stdout: 'gw.lab.example.\n' })
    .on(['kea-dhcp4', '-t', '/etc/kea/kea-dhcp4.conf'], { stdout: '' })
    .on(['ss', '-Hlunp', 'sport', '=', ':67'], { stdout: KEA_SS })
    .on(['cat', '/proc/sys/net/ipv4/ip_forward'], { stdout: '1\n' })
    .on(['nft', 'list', 'ruleset'], { stdout: NAT_RULESET });
  return comm;
}

async function lines(spec: ResolvedSpec, opts: VerifyOptions, comm: FakeCommunicator, layout = DEBIAN_NET): Promise<string[]> {
  return formatResults(await runChecks(linuxServiceChecks(spec, opts, layout), comm)).trimEnd().split('\n');
}

describe('the DNS, DHCP and router checks', () => {
  it('pass on the booted lab gateway, one line per record', async () => {
    const out = await lines(labSpec(), BOOTED, healthyGuest());
    assert.deepEqual(out.filter((l) => !l.startsWith('ok    ')), ['all 13 checks passed']);
    includesAll(out, [
      'ok    DNS server configuration: named-checkconf -z /etc/bind/named.conf passes',
      'ok    DNS www.lab.example AAAA fd00:1::1: answered by the server for lab.example',
      'ok    DNS lab.example MX 10 gw.lab.example.: answered by the server for lab.example',
      'ok    DHCP server listens on eth1: UDP 10.0.1.1:67 (kea-dhcp4)',
      'ok    IPv4 forwarding on: net.ipv4.ip_forward = 1',
      'ok    NAT out of eth0: oifname "eth0" masquerade is loaded',
    ]);
  });

  it('fail a record that resolves elsewhere or not at all', async () => {
    const comm = healthyGuest().on(digArgv('www.lab.example', 'A'), { stdout: '10.0.1.9\n' }).on(digArgv('mail.lab.example', 'CNAME'), { stdout: '' });
    const out = await lines(labSpec(), BOOTED, comm);
    includesAll(out, [
      'FAIL  DNS www.lab.example A 10.0.1.1: answers 10.0.1.9',
      'FAIL  DNS mail.lab.example CNAME gw.lab.example.: no answer from 127.0.0.1',
      '2 of 13 checks failed',
    ]);
  });

  it('fail a configuration the server\'s checker refuses, with its message', async () => {
    const comm = healthyGuest().on(['named-checkconf', '-z', '/etc/bind/named.conf'], { exitCode: 1, stdout: 'zone lab.example/IN: NS \'gw.lab.example\' has no address records (A or AAAA)\nzone lab.example/IN: not loaded due to errors.\n' });
    const out = await lines(labSpec(), BOOTED, comm);
    assert.ok(out.includes("FAIL  DNS server configuration: zone lab.example/IN: NS 'gw.lab.example' has no address records (A or AAAA)"), out.join('\n'));
  });

  it('fail a DHCP server that is not on its NIC, and one that is not there at all', async () => {
    const elsewhere = await lines(labSpec(), BOOTED, healthyGuest().on(['ss', '-Hlunp', 'sport', '=', ':67'], { stdout: KEA_SS.replace('10.0.1.1', '192.0.2.2') }));
    assert.ok(elsewhere.includes('FAIL  DHCP server listens on eth1: UDP 67 is open on 192.0.2.2:67, not on 10.0.1.1 (eth1)'), elsewhere.join('\n'));
    const none = await lines(labSpec(), BOOTED, healthyGuest().on(['ss', '-Hlunp', 'sport', '=', ':67'], { stdout: '' }));
    assert.ok(none.includes('FAIL  DHCP server listens on eth1: nothing listens on UDP 67'), none.join('\n'));
  });

  it('fail a router that does not forward or does not masquerade', async () => {
    const comm = healthyGuest().on(['cat', '/proc/sys/net/ipv4/ip_forward'], { stdout: '0\n' }).on(['nft', 'list', 'ruleset'], { stdout: NAT_RULESET.replace('eth0', 'eth1') });
    const out = await lines(labSpec(), BOOTED, comm);
    includesAll(out, ['FAIL  IPv4 forwarding on: net.ipv4.ip_forward is 0, want 1', 'FAIL  NAT out of eth0: the loaded ruleset does not masquerade out of eth0']);
  });

  it('check a stopped guest from its files: named\'s checker, the sysctl file, the ruleset file', async () => {
    const comm = healthyGuest()
      .on(['cat', '--', '/etc/sysctl.d/90-vmgen-router.conf'], { stdout: '# Generated by vmgen\nnet.ipv4.ip_forward = 1\n' })
      .on(['cat', '--', '/etc/nftables.conf'], { stdout: NAT_RULESET });
    const out = await lines(labSpec(), OFFLINE, comm);
    assert.deepEqual(out, [
      'ok    DNS server configuration: named-checkconf -z /etc/bind/named.conf passes',
      'ok    IPv4 forwarding configured: net.ipv4.ip_forward = 1 in /etc/sysctl.d/90-vmgen-router.conf',
      'ok    NAT out of eth0: masquerade rule in /etc/nftables.conf',
      'all 3 checks passed',
    ]);
  });

  it('RedHat: named.conf in /etc, and the NAT from firewalld\'s policy and zone', async () => {
    const comm = healthyGuest()
      .on(['named-checkconf', '-z', '/etc/named.conf'], { stdout: '' })
      .on(['firewall-cmd', '--get-zone-of-interface=eth0'], { stdout: 'vmgen-nat\n' })
      .on(['firewall-cmd', '--policy=vmgen-router', '--query-masquerade'], { stdout: 'yes\n' });
    const out = await lines(labSpec('fedora42-64'), BOOTED, comm, REDHAT_NET);
    includesAll(out, ['ok    DNS server configuration: named-checkconf -z /etc/named.conf passes', 'ok    NAT out of eth0: policy vmgen-router masquerades into zone vmgen-nat (eth0)']);
    const wrongZone = await lines(labSpec('fedora42-64'), BOOTED, comm.on(['firewall-cmd', '--get-zone-of-interface=eth0'], { stdout: 'vmgen\n' }), REDHAT_NET);
    assert.ok(wrongZone.includes('FAIL  NAT out of eth0: eth0 is in zone vmgen, want vmgen-nat'), wrongZone.join('\n'));
  });

  it('are part of vmgen verify\'s checks, after the firewall\'s', () => {
    const names = verifyChecks(labSpec(), BOOTED).map((c) => c.name);
    const firewall = names.indexOf('firewall input policy');
    const dns = names.indexOf('DNS server configuration');
    assert.ok(firewall >= 0 && dns > firewall, `firewall at ${firewall}, DNS at ${dns}: ${names.join(', ')}`);
    includesAll(names, ['DHCP server listens on eth1', 'NAT out of eth0']);
  });

  it('are none without service sections', () => {
    const spec = labSpec();
    const bare = { ...spec, provision: { ...spec.provision, services: {} } };
    assert.deepEqual(linuxServiceChecks(bare, BOOTED, DEBIAN_NET).map((c) => c.name), []);
  });
});

describe('reading the answers', () => {
  it('compares IPv6 addresses in any spelling', () => {
    assert.equal(expandIPv6('fd00:1::1'), 'fd00:0001:0000:0000:0000:0000:0000:0001');
    assert.equal(expandIPv6('::ffff:192.0.2.1'), '0000:0000:0000:0000:0000:ffff:c000:0201');
    assert.equal(expandIPv6('1::2::3'), undefined);
    assert.equal(expandIPv6('10.0.1.1'), undefined);
    assert.ok(sameRdata('AAAA', 'fd00:1::1', 'FD00:0001:0:0:0:0:0:1'), 'the same address in two spellings');
    assert.ok(!sameRdata('AAAA', 'fd00:1::2', 'fd00:1::1'), 'two addresses taken for one');
    assert.ok(sameRdata('CNAME', 'gw.lab.example.', 'GW.lab.example.'), 'names differ only in case');
  });

  it('finds Kea\'s socket in ss output, by address or by NIC', () => {
    assert.deepEqual(listeners(KEA_SS), [{ local: '10.0.1.1:67', process: 'users:(("kea-dhcp4",pid=204,fd=15))' }]);
    assert.ok(listensOn({ nic: 'eth1', address: '10.0.1.1' }, '10.0.1.1:67'), 'by address');
    assert.ok(listensOn({ nic: 'eth1', address: '10.0.1.1' }, '0.0.0.0%eth1:67'), 'by NIC');
    assert.ok(!listensOn({ nic: 'eth1', address: '10.0.1.1' }, '10.0.1.10:67'), 'another address');
    assert.ok(!listensOn({ nic: 'eth1', address: '10.0.1.1' }, '0.0.0.0%eth10:67'), 'another NIC');
  });
});
