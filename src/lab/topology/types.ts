import type { Lab } from '../types.js';
import type { LabManifestNetwork } from '../manifest.js';

/** A file of the lab's topology, relative to the archive's top level (topology/…). */
export interface TopologyFile {
  /** Its key in lab.json's `topology`: bridges, compose, network:NET, segments, networks. */
  role: string;
  path: string;
  content: string;
  mode?: number;
}

/** A target's topology: pure, the lab and its networks (with their bridge and network names) in, files out. */
export type TopologyRenderer = (lab: Lab, networks: readonly LabManifestNetwork[]) => TopologyFile[];
