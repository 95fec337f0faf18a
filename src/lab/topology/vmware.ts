import type { TopologyRenderer } from './types.js';

/**
 * VMware's LAN segments: a NIC on one has ethernetN.connectionType = "pvn" and ethernetN.pvnID, the
 * segment's id; Workstation lists the segments it knows in its preferences (pref.namedPVNs), so
 * topology/segments.json gives each lab network its id and name for both.
 */
export function labSegmentId(lab: string, network: string): string {
  // pvnID is eight groups of two hex digits; derived from the names so a rebuild keeps the wiring.
  let h = 0x811c9dc5n;
  const bytes: string[] = [];
  for (const c of Buffer.from(`${lab}/${network}`)) h = ((h ^ BigInt(c)) * 0x1000193n) & 0xffffffffffffffffn;
  for (let i = 0; i < 8; i++) bytes.push(((h >> BigInt(8 * (7 - i))) & 0xffn).toString(16).padStart(2, '0'));
  return `${bytes.slice(0, 4).join(' ')}-${bytes.slice(4).join(' ')}`;
}

export const vmwareTopology: TopologyRenderer = (lab, networks) => [{
  role: 'segments',
  path: 'topology/segments.json',
  content: `${JSON.stringify(networks.map((n) => ({ network: n.name, name: n.segment, pvnID: labSegmentId(lab.name, n.name), subnet: n.subnet })), null, 2)}\n`,
}];
