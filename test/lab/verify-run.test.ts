import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatProbeOutput, unwrapProbe } from '../../src/communicators/probe.js';
import type { Communicator } from '../../src/communicators/types.js';
import type { LabNetwork } from '../../src/lab/types.js';
import type { LabCheck } from '../../src/lab/verify/plan.js';
import { runLabChecks, type MachineAccess } from '../../src/lab/verify/run.js';

/*
 * The runner against small scripted guests: each answers the probes the checks send (hostname -I,
 * /proc files, getent, bash's /dev/tcp) from a table, so a test says what the guest's network
 * looks like and reads which rows pass or fail and what they say.
 */

interface GuestNet {
  addresses: string[];
  routes?: string;
  tcp?: string;
  /** address:port → what a connection gets. */
  connect?: Record<string, 'open' | 'refused' | 'timeout'>;
  hosts?: Record<string, string[]>;
}

function guest(net: GuestNet): Communicator {
  const reply = (stdout: string, code = 0, stderr = '') => ({ stdout: formatProbeOutput(stdout, code), stderr });
  return {
    description: 'scripted guest',
    async exec(argv) {
      const cmd = unwrapProbe(argv);
      assert.ok(cmd, `checks ask through probes: ${argv.join(' ')}`);
      const [head, ...rest] = cmd;
      if (head === 'hostname') return reply(`${net.addresses.join(' ')} \n`);
      if (head === 'cat') return reply(rest[0] === '/proc/net/route' ? (net.routes ?? '') : rest[0] === '/proc/net/tcp' ? (net.tcp ?? '') : '');
      if (head === 'getent') {
        const addrs = net.hosts?.[rest[1]!] ?? [];
        return addrs.length === 0 ? reply('', 2) : reply(addrs.map((a) => `${a}      STREAM ${rest[1]}\n`).join(''));
      }
      if (head === 'timeout') {
        const [address, port] = rest.slice(-2);
        const r = net.connect?.[`${address}:${port}`] ?? 'timeout';
        return r === 'open' ? reply('') : r === 'refused' ? reply('', 1, `bash: connect: Connection refused`) : reply('', 124);
      }
      throw new Error(`unexpected command ${cmd.join(' ')}`);
    },
    writeFile: async () => undefined, symlink: async () => undefined, readFile: async () => Buffer.alloc(0), remove: async () => undefined,
  };
}

const LAN: LabNetwork = { name: 'lan', subnet: '10.10.0.0/24', prefix: 24, dns: [] };
const ROUTES = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\neth0\t00000000\t01000A0A\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t00000A0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n';
const LISTEN_22 = 'sl local rem st\n0: 00000000:0016 00000000:0000 0A 0\n';

describe('running the lab checks', () => {
  it('reads a DHCP client\'s address first and asks later checks at it', async () => {
    const checks: LabCheck[] = [
      { kind: 'reach', machine: 'gw', peer: { machine: 'pc1', nic: 'eth0', network: 'lan' } },
      { kind: 'dhcp', machine: 'pc1', nic: 'eth0', network: 'lan', server: 'gw', from: '10.10.0.100', to: '10.10.0.199' },
    ];
    const asked: string[] = [];
    const access = new Map<string, MachineAccess>([
      ['gw', { comm: guest({ addresses: ['10.10.0.1'] }), ping: async (a) => { asked.push(a); return { ok: true, stdout: `64 bytes from ${a}: icmp_seq=1 ttl=64`, detail: '' }; } }],
      ['pc1', { comm: guest({ addresses: ['10.10.0.142'] }) }],
    ]);
    const results = await runLabChecks(checks, access, [LAN]);
    assert.deepEqual(results.map((r) => [r.machine, r.peer, r.kind, r.status]), [['gw', 'pc1', 'reach', 'ok'], ['pc1', 'gw', 'dhcp', 'ok']], 'in plan order, both pass');
    assert.deepEqual(asked, ['10.10.0.142'], 'gw pinged the leased address');
  });

  it('fails a lease outside the server\'s range, naming the address', async () => {
    const results = await runLabChecks([{ kind: 'dhcp', machine: 'pc1', nic: 'eth0', network: 'lan', server: 'gw', from: '10.10.0.100', to: '10.10.0.199' }],
      new Map([['pc1', { comm: guest({ addresses: ['10.10.0.7'] }) }]]), [LAN]);
    assert.equal(results[0]?.status, 'FAIL', 'outside the range');
    assert.equal(results[0]?.detail, 'holds 10.10.0.7, outside 10.10.0.100-10.10.0.199', 'says what it holds');
  });

  it('fails a route that bypasses the router, and one whose reply crossed no router', async () => {
    const route: LabCheck = { kind: 'route', machine: 'pc1', peer: { machine: 'web', nic: 'eth0', network: 'dmz', address: '10.20.0.10' }, router: 'gw', via: '10.10.0.1' };
    const direct = await runLabChecks([route], new Map([['pc1', { comm: guest({ addresses: [], routes: ROUTES.replace('01000A0A', '0A000A0A') }) }]]), [LAN]);
    assert.equal(direct[0]?.detail, 'the route to 10.20.0.10 goes via 10.10.0.10, not 10.10.0.1', 'the wrong next hop is named');
    const ttl64 = await runLabChecks([route], new Map([['pc1', { comm: guest({ addresses: [], routes: ROUTES }), ping: async () => ({ ok: true, stdout: 'ttl=64', detail: '' }) }]]), [LAN]);
    assert.equal(ttl64[0]?.status, 'FAIL', 'TTL 64 means no hop');
    const ttl63 = await runLabChecks([route], new Map([['pc1', { comm: guest({ addresses: [], routes: ROUTES }), ping: async () => ({ ok: true, stdout: 'ttl=63', detail: '' }) }]]), [LAN]);
    assert.equal(ttl63[0]?.status, 'ok', `one hop: ${ttl63[0]?.detail}`);
  });

  it('asks open ports only where a service listens, and fails a closed port that answers', async () => {
    const peer = { machine: 'gw', nic: 'eth1', network: 'lan', address: '10.10.0.1' };
    const access = new Map<string, MachineAccess>([
      ['gw', { comm: guest({ addresses: ['10.10.0.1'], tcp: LISTEN_22 }) }],
      ['pc1', { comm: guest({ addresses: [], connect: { '10.10.0.1:22': 'open', '10.10.0.1:1': 'open' } }) }],
    ]);
    const results = await runLabChecks([
      { kind: 'port', machine: 'pc1', peer, port: 22, expect: 'open' },
      { kind: 'port', machine: 'pc1', peer, port: 80, expect: 'open' },
      { kind: 'port', machine: 'pc1', peer, port: 1, expect: 'closed' },
    ], access, [LAN]);
    assert.deepEqual(results.map((r) => r.status), ['ok', 'skip', 'FAIL'], results.map((r) => r.detail).join(' | '));
    assert.equal(results[2]?.detail, '10.10.0.1:1 answers', 'the closed port that answers is named');
  });

  it('resolves A and CNAME records through the guest\'s resolver', async () => {
    const comm = guest({ addresses: [], hosts: { 'web.net101.lab': ['10.20.0.10'], 'www.net101.lab': ['10.20.0.10'] } });
    const results = await runLabChecks([
      { kind: 'dns', machine: 'pc1', server: 'gw', name: 'web.net101.lab', type: 'A', value: '10.20.0.10' },
      { kind: 'dns', machine: 'pc1', server: 'gw', name: 'www.net101.lab', type: 'CNAME', value: 'web' },
      { kind: 'dns', machine: 'pc1', server: 'gw', name: 'gw.net101.lab', type: 'A', value: '10.10.0.1' },
    ], new Map([['pc1', { comm }]]), [LAN]);
    assert.deepEqual(results.map((r) => r.status), ['ok', 'ok', 'FAIL'], results.map((r) => r.detail).join(' | '));
    assert.equal(results[2]?.detail, 'gw.net101.lab resolves to nothing, want 10.10.0.1', 'the failure says what was wanted');
  });

  it('reports a machine that is not running as the check\'s failure, not a crash', async () => {
    const results = await runLabChecks([{ kind: 'reach', machine: 'pc9', peer: { machine: 'gw', nic: 'eth1', network: 'lan', address: '10.10.0.1' } }], new Map(), [LAN]);
    assert.deepEqual([results[0]?.machine, results[0]?.peer, results[0]?.status, results[0]?.detail], ['pc9', 'gw', 'FAIL', 'could not check: pc9 is not running'], 'named');
  });
});
