import type { Lab } from '../../lab/types.js';
import type { LabTopology } from '../web/shared-types.js';

/**
 * What the API and the page show of a lab: networks, machines and their NICs, from the lab as
 * loaded. The machine configs stay out: they hold users' passwords, and the page draws no more.
 */
export function labTopology(lab: Lab): LabTopology {
  return {
    name: lab.name,
    ...(lab.description ? { description: lab.description } : {}),
    networks: lab.networks.map((n) => ({ name: n.name, subnet: n.subnet, ...(n.gateway ? { gateway: n.gateway } : {}) })),
    machines: lab.machines.map((m) => ({ name: m.name, group: m.group, nics: m.nics.map((n) => ({ nic: n.nic, network: n.network, address: n.address })) })),
  };
}
