import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { labDiagram, svgText, type SvgNode } from '../../web/src/lab-diagram.js';
import type { LabTopology } from '../../src/service/web/shared-types.js';
import { assertGolden } from '../helpers/golden.js';

/** The example lab's shape (examples/net101 with two students), as GET /api/labs/:id returns it. */
const NET101: LabTopology = {
  name: 'net101',
  networks: [{ name: 'dmz', subnet: '10.20.0.0/24', gateway: '10.20.0.1' }, { name: 'lan', subnet: '10.10.0.0/24', gateway: '10.10.0.1' }],
  machines: [
    { name: 'gw', group: 'gw', nics: [{ nic: 'eth0', network: 'dmz', address: '10.20.0.1' }, { nic: 'eth1', network: 'lan', address: '10.10.0.1' }] },
    { name: 'web', group: 'web', nics: [{ nic: 'eth0', network: 'dmz', address: '10.20.0.10' }] },
    { name: 'pc1', group: 'pc', nics: [{ nic: 'eth0', network: 'lan', address: 'dhcp' }] },
    { name: 'pc2', group: 'pc', nics: [{ nic: 'eth0', network: 'lan', address: 'dhcp' }] },
  ],
};

const all = (n: SvgNode, pred: (n: SvgNode) => boolean): SvgNode[] =>
  [...(pred(n) ? [n] : []), ...n.children.flatMap((c) => (typeof c === 'string' ? [] : all(c, pred)))];

describe('labDiagram', () => {
  test('the example lab, machines in each build state (golden)', () => {
    const out = svgText(labDiagram(NET101, { gw: 'succeeded', web: 'running', pc1: 'failed', pc2: 'queued' }));
    assertGolden('lab-diagram/net101.svg', out);
  });

  test('a line from each NIC to its network\'s bar, ending on it', () => {
    const tree = labDiagram(NET101);
    const bars = new Map(all(tree, (n) => n.attrs.class === 'lab-network').map((g) => [g.attrs['data-network'], (g.children[0] as SvgNode).attrs.y1]));
    const links = all(tree, (n) => n.attrs.class === 'lab-link');
    assert.equal(links.length, 5, 'gw has two NICs, the others one each');
    for (const l of links) {
      const line = l.children[0] as SvgNode;
      assert.equal(line.attrs.y2, bars.get(l.attrs['data-network']!), `${l.attrs['data-nic']} ends on ${l.attrs['data-network']}`);
    }
    const states = all(tree, (n) => n.attrs.class === 'lab-machine-state').map((n) => n.children.join(''));
    assert.deepEqual(states, ['waiting', 'waiting', 'waiting', 'waiting'], 'no states yet: waiting');
  });

  test('names and addresses are text, escaped in the markup', () => {
    const hostile: LabTopology = { name: '<x>', networks: [{ name: 'a&b', subnet: '10.0.0.0/8' }], machines: [{ name: '"m"', group: 'm', nics: [{ nic: 'eth0', network: 'a&b', address: 'dhcp' }] }] };
    const text = svgText(labDiagram(hostile));
    assert.ok(!text.includes('<x>') && text.includes('&lt;x&gt;'), 'the lab name is escaped');
    assert.ok(text.includes('a&amp;b 10.0.0.0/8'), 'the network name is escaped');
  });
});
