import type { RunResult } from '../exec/run.js';

/**
 * The seed's Communicator: how configurators and installers reach a guest, without knowing the
 * target. Paths are absolute inside the guest; commands run inside the guest, never on the host.
 */
export interface Communicator {
  /** For logs and `vmgen verify`: "chroot namespace on /…/rootfs", "lxc-attach web1"… */
  readonly description: string;
  exec(argv: readonly string[], opts?: { input?: string; signal?: AbortSignal }): Promise<RunResult>;
  /**
   * Runs commands in order in one guest process (batch.ts), stopping at the first that fails; its
   * error's stderr ends with the line batchFailure() reads. Where missing, each runs on its own.
   */
  execAll?(argvs: ReadonlyArray<readonly string[]>, opts?: { signal?: AbortSignal }): Promise<RunResult>;
  writeFile(path: string, content: string | Uint8Array, mode?: number): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  /** A symbolic link's target, or undefined when `path` is no link (or missing). Where missing, nothing reads links. */
  readLink?(path: string): Promise<string | undefined>;
  remove(path: string): Promise<void>;
}
