import { createHash } from 'node:crypto';
import type { TopologyRenderer } from './types.js';

/**
 * VMware's LAN segments: a NIC on one has ethernetN.connectionType = "pvn" and ethernetN.pvnID, the
 * segment's id; Workstation lists the segments it knows in its preferences (pref.namedPVNs), so
 * topology/segments.json gives each lab network its id and name for both.
 */
export function labSegmentId(lab: string, network: string): string {
  // Sixteen bytes as Workstation writes them ("52 dd bc d5 36 19 1b 6b-0f f1 fb 1c 4c ac 44 f7"),
  // its leading 52 kept, the rest a hash of the names, so a rebuild keeps the wiring.
  const hash = createHash('sha256').update(`${lab}\0${network}`).digest();
  const bytes = [0x52, ...hash.subarray(0, 15)].map((b) => b.toString(16).padStart(2, '0'));
  return `${bytes.slice(0, 8).join(' ')}-${bytes.slice(8).join(' ')}`;
}

export const vmwareTopology: TopologyRenderer = (lab, networks) => [{
  role: 'segments',
  path: 'topology/segments.json',
  content: `${JSON.stringify(networks.map((n) => ({ network: n.name, name: n.segment, pvnID: labSegmentId(lab.name, n.name), subnet: n.subnet })), null, 2)}\n`,
}];
