import { posix } from 'node:path';
import { run, type RunResult } from '../exec/run.js';
import { batchArgv } from './batch.js';
import type { Communicator } from './types.js';

/** The environment commands see in the guest: the same as under chroot, nothing of the host's. */
export const GUEST_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LC_ALL: 'C.UTF-8',
  DEBIAN_FRONTEND: 'noninteractive',
};

export function guestEnvPairs(): string[] {
  return Object.entries(GUEST_ENV).map(([k, v]) => `${k}=${v}`);
}

/*
 * File operations for guests reached only by running commands in them (a running container). Each
 * is a constant script; the path, mode and link target reach it as positional parameters ("$1"…),
 * so no value is ever parsed as shell code, whatever characters it holds. The scripts use only
 * POSIX sh and coreutils, which every Debian-family guest has (both are Essential).
 */

/** Writes stdin to a temporary file beside the target, then renames it over: readers never see half a file. */
export const WRITE_SCRIPT = [
  'set -e',
  'dir=$(dirname -- "$1")',
  'mkdir -p -- "$dir"',
  'tmp=$(mktemp -- "$dir/.vmgen-XXXXXXXX")',
  'if base64 -d > "$tmp" && chmod -- "$2" "$tmp" && mv -f -- "$tmp" "$1"; then exit 0; fi',
  'rm -f -- "$tmp"',
  'exit 1',
].join('\n');

/** base64 both ways, because the command's output is read as text and a file may be binary. */
export const READ_SCRIPT = 'base64 -- "$1"';

/** -n: a link to a directory is replaced, not followed into (where ln would put a new link inside it). */
export const SYMLINK_SCRIPT = 'mkdir -p -- "$(dirname -- "$2")" && ln -sfn -- "$1" "$2"';

export const REMOVE_SCRIPT = 'rm -rf -- "$1"';

/** `sh -c SCRIPT NAME ARGS…`: sh gives ARGS to the script as $1…, and NAME as $0 for its messages. */
export function scriptArgv(script: string, args: readonly string[]): [string, ...string[]] {
  return ['sh', '-c', script, 'vmgen', ...args];
}

function assertGuestPath(path: string): string {
  if (!posix.isAbsolute(path)) throw new Error(`guest path must be absolute: ${JSON.stringify(path)}`);
  if (path.includes('\0')) throw new Error('guest path contains a NUL byte');
  return path;
}

/**
 * A communicator for a running guest that can only run commands there (lxc-attach, podman exec,
 * nsenter). Subclasses say how a guest command becomes a host argv; reading and writing files is
 * built on that here, once.
 */
export abstract class CommandCommunicator implements Communicator {
  abstract readonly description: string;

  /** The host argv that runs `argv` inside the guest. */
  protected abstract hostArgv(argv: readonly string[]): [string, ...string[]];

  /** The host environment of the wrapping tool; only nsenter passes it on to the guest. */
  protected hostEnv(): NodeJS.ProcessEnv {
    return process.env;
  }

  exec(argv: readonly string[], opts: { input?: string; signal?: AbortSignal } = {}): Promise<RunResult> {
    return this.spawn(argv, opts.input, opts.signal);
  }

  execAll(argvs: ReadonlyArray<readonly string[]>, opts: { signal?: AbortSignal } = {}): Promise<RunResult> {
    return this.spawn(batchArgv(argvs), undefined, opts.signal);
  }

  private spawn(argv: readonly string[], input: string | Uint8Array | undefined, signal?: AbortSignal): Promise<RunResult> {
    if (argv.length === 0) return Promise.reject(new Error('empty command'));
    return run(this.hostArgv(argv), {
      env: this.hostEnv(),
      ...(input === undefined ? {} : { input }),
      ...(signal === undefined ? {} : { signal }),
    });
  }

  async writeFile(path: string, content: string | Uint8Array, mode = 0o644): Promise<void> {
    const base64 = Buffer.from(content).toString('base64');
    await this.spawn(scriptArgv(WRITE_SCRIPT, [assertGuestPath(path), mode.toString(8)]), base64);
  }

  async symlink(target: string, path: string): Promise<void> {
    if (target === '' || target.includes('\0')) throw new Error(`bad link target: ${JSON.stringify(target)}`);
    await this.spawn(scriptArgv(SYMLINK_SCRIPT, [target, assertGuestPath(path)]), undefined);
  }

  async readFile(path: string): Promise<Buffer> {
    const { stdout } = await this.spawn(scriptArgv(READ_SCRIPT, [assertGuestPath(path)]), undefined);
    return Buffer.from(stdout, 'base64');
  }

  async remove(path: string): Promise<void> {
    if (posix.normalize(assertGuestPath(path)) === '/') throw new Error('refusing to remove the guest root');
    await this.spawn(scriptArgv(REMOVE_SCRIPT, [path]), undefined);
  }
}
