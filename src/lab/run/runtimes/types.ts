import type { VmConfig } from '../../../config/model.js';
import type { ResolvedSpec } from '../../../config/resolve.js';
import type { LabManifest, LabManifestMachine } from '../../manifest.js';
import type { MachineAccess } from '../../verify/run.js';

/** What a runtime knows of the lab it runs: where it is unpacked and its namespace. */
export interface LabRunContext {
  manifest: LabManifest;
  /** The state directory: the unpacked archive and run.json. */
  labDir: string;
  netns: string;
  /** /run/netns/NETNS */
  netnsPath: string;
  /** An empty directory the host's cgroup tree is bound on in a private mount namespace (see netns.ts). */
  cgroupAside: string;
  /** Each machine's config and spec as built (empty while `down` runs: stopping needs neither). */
  machines: ReadonlyMap<string, { config: VmConfig; spec: ResolvedSpec }>;
  log(line: string): void;
  /** Records something made (a tap, an image) before it is made use of, so a failed up and down remove it. */
  record(kind: string, item: string): Promise<void>;
  /** What earlier steps (or the up that `down` undoes) recorded. */
  recorded(kind: string): readonly string[];
}

/**
 * One way of running a built lab's machines (a row of the table in ./registry.ts). Recognized
 * from the manifest's file roles, not from the target's name: the archive says what it holds.
 */
export interface LabRuntime {
  readonly id: string;
  readonly label: string;
  matches(manifest: LabManifest): boolean;
  /** Host programs it runs, for the tool check before anything is made. */
  readonly tools: readonly string[];
  /** Set when the runtime, not the lab's DHCP server, gives DHCP NICs their addresses: its name, for verify's table. */
  readonly leasesBy?: string;
  /** Whether `up` makes the bridges (false: the runtime's own network tool makes them in the namespace). */
  readonly makesBridges: boolean;
  /** Once, after the namespace and bridges exist and before any machine starts. */
  prepare?(ctx: LabRunContext, signal: AbortSignal): Promise<void>;
  /** Starts the machines of one stage; resolves when each can be reached (booted). */
  start(ctx: LabRunContext, machines: readonly LabManifestMachine[], signal: AbortSignal): Promise<void>;
  /** How verify reaches a running machine; works in a process other than the one that started it. Close it after use. */
  open(ctx: LabRunContext, machine: LabManifestMachine, signal: AbortSignal): Promise<MachineAccess>;
  /** Stops one machine; safe on a machine that never started. */
  stop(ctx: LabRunContext, machine: LabManifestMachine): Promise<void>;
  /** Once, after every machine stopped: removes what prepare made. */
  cleanup?(ctx: LabRunContext): Promise<void>;
}
