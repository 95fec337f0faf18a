import type { Communicator } from '../../communicators/types.js';
import type { ResolvedSpec } from '../../config/resolve.js';
import type { CheckResult } from '../checks.js';

/** A runtime that can start an unpacked archive here: LXC, systemd-nspawn or podman. */
export interface Runtime {
  /** What `vmgen verify` names as the runtime it used. */
  readonly name: string;
  /** Notes about the run (a NIC left unattached because its bridge is missing…). */
  readonly notes: string[];
  start(signal: AbortSignal): Promise<Communicator>;
  /** Stops the guest and removes what start made; safe to call after a failed start. */
  stop(): Promise<void>;
  /** Whether the runtime puts the spec's addresses on the guest's NICs. */
  readonly addressesInGuest: boolean;
  /** Checks of what the target owns outside the guest (CTID.conf's IP_ADDRESS, the image labels). */
  targetChecks(spec: ResolvedSpec): Promise<Array<{ name: string } & CheckResult>>;
}

export interface RuntimeFactory {
  /** Recognizes an unpacked archive (or, for OCI, the archive itself). */
  matches(dir: string): Promise<boolean>;
  create(opts: { archive: string; dir: string; workDir: string; spec: ResolvedSpec; netOverride?: 'empty' | 'veth' }): Promise<Runtime>;
}
