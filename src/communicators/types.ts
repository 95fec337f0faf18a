import type { RunResult } from '../exec/run.js';

/**
 * The seed's Communicator: how configurators and installers reach a guest, without knowing the
 * target. Paths are absolute inside the guest; commands run inside the guest, never on the host.
 */
export interface Communicator {
  /** For logs and `vmgen verify`: "chroot namespace on /…/rootfs", "lxc-attach web1"… */
  readonly description: string;
  exec(argv: readonly string[], opts?: { input?: string; signal?: AbortSignal }): Promise<RunResult>;
  writeFile(path: string, content: string | Uint8Array, mode?: number): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  remove(path: string): Promise<void>;
}
