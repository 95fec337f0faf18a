import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addressIn, inRange, ipv4Words, listeningTcpPorts, parseProcNetRoute, pingTtl, routeTo } from '../../src/lab/verify/parse.js';
import { formatLabTable, summaryLine } from '../../src/lab/verify/table.js';
import type { LabCheckResult } from '../../src/lab/verify/run.js';

// As read on pc1 of the example lab under LXC (a DHCP lease from gw on lan), trailing blanks left out.
const PROC_NET_ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t01000A0A\t0003\t0\t0\t1024\t00000000\t0\t0\t0
eth0\t00000A0A\t00000000\t0001\t0\t0\t1024\t00FFFFFF\t0\t0\t0
eth0\t01000A0A\t00000000\t0005\t0\t0\t1024\tFFFFFFFF\t0\t0\t0
`;

const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100000A:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   104        0 2 1 0000000000000000 100 0 0 10 0
   2: 6400000A:0016 0A00140A:C350 01 00000000:00000000 02:00095EBA 00000000     0        0 3 2 0000000000000000 20 4 1 10 -1
`;

describe('readers of guest output', () => {
  it('reads /proc/net/route and picks the longest prefix', () => {
    const routes = parseProcNetRoute(PROC_NET_ROUTE);
    assert.deepEqual(routes[0], { iface: 'eth0', destination: '0.0.0.0', gateway: '10.10.0.1', prefix: 0 }, 'the default route');
    assert.equal(routeTo(routes, '10.20.0.10')?.gateway, '10.10.0.1', 'the dmz through gw');
    assert.equal(routeTo(routes, '10.10.0.7')?.gateway, '0.0.0.0', 'lan on the link');
    assert.equal(routeTo(routes.slice(1), '10.20.0.10'), undefined, 'no route without the default');
  });
  it('finds the listening TCP ports, not the connected ones', () => {
    assert.deepEqual([...listeningTcpPorts(PROC_NET_TCP)].sort((a, b) => a - b), [22, 53], 'ssh and DNS listen; the connection on 22 is no second listener');
  });
  it('reads the TTL of the first reply', () => {
    assert.equal(pingTtl('64 bytes from 10.20.0.10: icmp_seq=1 ttl=63 time=0.08 ms'), 63, 'ttl');
    assert.equal(pingTtl('1 packets transmitted, 0 received'), undefined, 'no reply, no TTL');
  });
  it('takes IPv4 addresses from words and places them in subnets and ranges', () => {
    assert.deepEqual(ipv4Words('10.10.0.104 fe80::1 10.1.2.300 \n'), ['10.10.0.104'], 'only well-formed IPv4');
    assert.equal(addressIn(['10.20.0.1', '10.10.0.1'], '10.10.0.0', 24), '10.10.0.1', 'the lan address');
    assert.equal(inRange('10.10.0.150', '10.10.0.100', '10.10.0.199'), true, 'inside');
    assert.equal(inRange('10.10.0.99', '10.10.0.100', '10.10.0.199'), false, 'below');
  });
});

describe('the results table', () => {
  const row = (over: Partial<LabCheckResult>): LabCheckResult => ({ machine: 'pc1', peer: 'web', kind: 'route', check: 'route to 10.20.0.10 via gw (10.10.0.1)', status: 'ok', detail: 'ttl 63', ...over });
  it('aligns machine, peer, check and result, and sums up', () => {
    const text = formatLabTable([row({}), row({ machine: 'pc12', peer: 'gw', kind: 'dns', check: 'dns gw.net101.lab A 10.10.0.1', detail: 'gw.net101.lab is 10.10.0.1' })]);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], 'MACHINE  PEER  CHECK                                   RESULT  DETAIL', 'header');
    assert.equal(lines[1], 'pc1      web   route to 10.20.0.10 via gw (10.10.0.1)  ok      ttl 63', 'first row');
    assert.equal(lines.at(-1), 'all 2 checks passed', 'summary');
  });
  it('counts failures and leaves skipped checks out of the total', () => {
    const results = [row({ status: 'FAIL', detail: 'no route to 10.20.0.10' }), row({ status: 'skip', kind: 'port' }), row({})];
    assert.equal(summaryLine(results), '1 of 2 checks failed (1 skipped)', 'summary');
    assert.match(formatLabTable(results), /^pc1 +web +route to 10\.20\.0\.10 via gw \(10\.10\.0\.1\) +FAIL +no route to 10\.20\.0\.10$/m, 'the failure names machine, peer and check');
  });
});
