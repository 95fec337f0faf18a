import type { TopologyRenderer } from './types.js';

/**
 * VirtualBox's internal networks exist once a running VM names one (`--intnet`), so there is nothing
 * to define: topology/networks.txt lists them, one per line, for the teacher and for `lab up`.
 */
export const virtualboxTopology: TopologyRenderer = (lab, networks) => [{
  role: 'networks',
  path: 'topology/networks.txt',
  content: [`# Internal networks of lab ${lab.name}: name, lab network, subnet`, ...networks.map((n) => `${n.internalNetwork} ${n.name} ${n.subnet}`), ''].join('\n'),
}];
