import type { PackageContext } from '../../targets/types.js';
import type { LabManifestNetwork } from '../manifest.js';
import type { Lab, LabMachine } from '../types.js';

/** What a member's packer knows of the lab beyond the build: where it goes and how it is wired. */
export interface MemberPackInput {
  lab: Lab;
  machine: LabMachine;
  networks: readonly LabManifestNetwork[];
  /** lxc: the absolute directory the lab's archive is unpacked into (its configs name it). */
  labDir: string;
  /** Where the member's own files go (becomes machines/NAME in the lab's archive). */
  machineDir: string;
}

/** A base a member stands on: by key, and where this host has it. */
export interface MemberBase {
  id: string;
  layerKey: string;
  /** The host directory whose `entries` are the base's content (the cache's layer or disk set). */
  source: string;
  entries: string[];
}

/** What a packer hands back: the member's files by role (relative to its machine directory) and its base. */
export interface MemberPacked {
  files: Record<string, string>;
  base?: MemberBase;
  /** Directories outside machineDir to store under it: [host path, path in machineDir] (lxc: the overlay's upper). */
  extra?: Array<[string, string]>;
}

/** A target's member packer: its row in MEMBER_PACKERS (members/registry.ts). */
export interface MemberPackRow {
  /** The archive format of the lab's archive for this target. */
  labFormat: 'tar.zst' | 'tar';
  pack(ctx: PackageContext, input: MemberPackInput): Promise<MemberPacked>;
}
