import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadCatalogs } from '../../src/catalog/load.js';
import { resolveSpec } from '../../src/config/resolve.js';
import { loadLabFile } from '../../src/lab/load.js';
import { CLOSED_PROBE_PORT, LAB_CHECK_KINDS, describeCheck, peerOf, planLabChecks, type LabCheck, type VerifyLabInput } from '../../src/lab/verify/plan.js';

const ROOT = join(import.meta.dirname, '..', '..');
const catalogs = loadCatalogs({ extraPaths: [], cwd: ROOT });

function exampleLab(): VerifyLabInput {
  const r = loadLabFile(join(ROOT, 'examples', 'net101', 'lab.conf'), { catalogs });
  assert.ok(r.lab, `the example lab loads: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return {
    networks: r.lab.networks,
    machines: r.lab.machines.map((m) => ({ name: m.name, nics: m.nics, spec: resolveSpec(m.config, catalogs, { target: 'verify', defaultMirror: 'http://mirror.example/debian' }) })),
  };
}

const of = <K extends LabCheck['kind']>(checks: LabCheck[], kind: K): Array<Extract<LabCheck, { kind: K }>> => checks.filter((c): c is Extract<LabCheck, { kind: K }> => c.kind === kind);

describe('the lab checks planned for the example lab (net101)', () => {
  const input = exampleLab();
  const checks = planLabChecks(input);
  const names = input.machines.map((m) => m.name);

  it('has every kind of check item 4 lists', () => {
    for (const kind of LAB_CHECK_KINDS) assert.ok(checks.some((c) => c.kind === kind), `a ${kind} check is planned`);
  });

  it('asks every machine to reach every other machine on each network they share, both ways', () => {
    const reach = of(checks, 'reach').map((c) => `${c.machine}>${c.peer.machine}@${c.peer.network}`);
    const lan = names.filter((n) => n === 'gw' || n.startsWith('pc'));
    for (const a of lan) for (const b of lan) if (a !== b) assert.ok(reach.includes(`${a}>${b}@lan`), `${a} reaches ${b} on lan`);
    assert.ok(reach.includes('gw>web@dmz') && reach.includes('web>gw@dmz'), 'gw and web reach each other on dmz');
    assert.ok(!reach.some((r) => r.startsWith('web>pc')), 'web shares no network with the students');
    assert.equal(reach.length, lan.length * (lan.length - 1) + 2, 'nothing else');
  });

  it('routes each student to the dmz through the gateway, and nothing back through the NAT', () => {
    const route = of(checks, 'route');
    assert.deepEqual(route.map((c) => c.machine), names.filter((n) => n.startsWith('pc')), 'every student, once');
    for (const c of route) {
      assert.equal(c.router, 'gw', `${c.machine} is routed by gw`);
      assert.equal(c.via, '10.10.0.1', `${c.machine}'s next hop is gw's lan address`);
      assert.equal(c.peer.address, '10.20.0.10', `${c.machine} asks web`);
    }
  });

  it('checks each DHCP client against the range of the server of its network', () => {
    const dhcp = of(checks, 'dhcp');
    assert.equal(dhcp.length, 6, 'six students');
    for (const c of dhcp) assert.deepEqual([c.server, c.network, c.from, c.to], ['gw', 'lan', '10.10.0.100', '10.10.0.199'], `${c.machine}'s scope`);
  });

  it('asks each record of the zone from a client on each network of the server', () => {
    const dns = of(checks, 'dns');
    const records = input.machines.find((m) => m.name === 'gw')!.spec.provision.services.dns!.zones.flatMap((z) => z.records.map((r) => r.fqdn));
    assert.ok(records.length >= 4, 'the zone has records');
    for (const fqdn of records) {
      assert.ok(dns.some((c) => c.name === fqdn && c.machine === 'pc1'), `${fqdn} asked on lan (by pc1, a DHCP client of gw)`);
      assert.ok(dns.some((c) => c.name === fqdn && c.machine === 'web'), `${fqdn} asked on dmz (by web, whose resolver is gw)`);
    }
    assert.ok(dns.every((c) => c.server === 'gw'), 'gw is the only server');
  });

  it('asks the open TCP ports from a peer, and one closed port, for every machine', () => {
    const ports = of(checks, 'port');
    const open = ports.filter((c) => c.expect === 'open').map((c) => `${c.peer.machine}:${c.port}`).sort();
    assert.ok(open.includes('web:80') && open.includes('gw:22') && open.includes('gw:53') && open.includes('pc1:22'), `open ports asked: ${open.join(' ')}`);
    assert.ok(!open.includes('gw:67'), 'a UDP-only port is not asked over TCP');
    for (const n of names) assert.ok(ports.some((c) => c.peer.machine === n && c.expect === 'closed' && c.port === CLOSED_PROBE_PORT), `${n} has a closed port asked`);
    assert.ok(ports.every((c) => c.machine !== c.peer.machine), 'always from another machine');
  });

  it('names the machine, the peer and the check in each row', () => {
    const c = of(checks, 'route')[0]!;
    assert.equal(peerOf(c), 'web', 'the peer column');
    assert.equal(describeCheck(c), 'route to 10.20.0.10 via gw (10.10.0.1)', 'the check column');
    assert.equal(describeCheck(of(checks, 'dhcp')[0]!), 'dhcp eth0 in 10.10.0.100-10.10.0.199', 'the DHCP row');
  });
});
