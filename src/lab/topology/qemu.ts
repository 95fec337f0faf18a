import { esc } from '../../targets/xml-text.js';
import type { LabManifestNetwork } from '../manifest.js';
import type { TopologyRenderer } from './types.js';

/**
 * A libvirt <network> per lab network (formatnetwork.html): isolated, since it has no <forward>,
 * and no <ip> either, so libvirt runs no dnsmasq: the lab brings its own router, DNS and DHCP.
 * The bridge is the one `lab up` makes, so both ways of starting the lab wire the same segments.
 */
export function renderLibvirtNetwork(net: LabManifestNetwork): string {
  return [
    '<network>',
    `  <name>${esc(net.libvirtNetwork)}</name>`,
    `  <bridge name="${esc(net.bridge)}" stp="off" delay="0"/>`,
    '</network>',
    '',
  ].join('\n');
}

export const qemuTopology: TopologyRenderer = (_lab, networks) => networks.map((net) => ({
  role: `network:${net.name}`,
  path: `topology/networks/${net.name}.xml`,
  content: renderLibvirtNetwork(net),
}));
