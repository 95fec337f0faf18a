import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, posix } from 'node:path';
import { run, type RunResult } from '../exec/run.js';
import { batchArgv } from './batch.js';
import { GUEST_ENV } from './command.js';
import type { Communicator } from './types.js';
import { resolveInRoot } from './rootfs-path.js';

/**
 * Reaches a guest that is a directory on the build host. Commands run chrooted inside fresh mount,
 * PID, UTS, IPC and network namespaces: a command cannot change the host's hostname, reach the
 * network or leave a process or a mount behind. Files are written by resolving paths inside the
 * root, never by following a link out of it.
 */
export class ChrootCommunicator implements Communicator {
  /** What argv() runs on the host. */
  static readonly TOOLS = ['unshare', 'chroot'] as const;
  readonly description: string;

  constructor(readonly root: string) {
    if (!isAbsolute(root)) throw new Error(`rootfs path must be absolute: ${root}`);
    this.description = `chroot in private namespaces on ${root}`;
  }

  static argv(root: string, argv: readonly string[]): [string, ...string[]] {
    return [
      'unshare', '--mount', '--propagation', 'private', '--uts', '--ipc', '--net', '--pid', '--fork', '--kill-child',
      `--mount-proc=${join(root, 'proc')}`, '--', 'chroot', root, ...argv,
    ];
  }

  exec(argv: readonly string[], opts: { input?: string; signal?: AbortSignal } = {}): Promise<RunResult> {
    if (argv.length === 0) throw new Error('empty command');
    return run(ChrootCommunicator.argv(this.root, argv), {
      env: GUEST_ENV, killSignal: 'SIGKILL',
      ...(opts.input === undefined ? {} : { input: opts.input }),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
  }

  /** One set of namespaces for all of them: starting fresh ones per command cost more than the commands. */
  execAll(argvs: ReadonlyArray<readonly string[]>, opts: { signal?: AbortSignal } = {}): Promise<RunResult> {
    return this.exec(batchArgv(argvs), opts);
  }

  /** Host path of the guest path's parent, created inside the root if missing. */
  private async parentOf(guestPath: string): Promise<{ dir: string; name: string }> {
    const name = posix.basename(guestPath);
    if (name === '' || name === '.' || name === '..') throw new Error(`not a file path: ${guestPath}`);
    const dir = resolveInRoot(this.root, posix.dirname(guestPath));
    await mkdir(dir, { recursive: true });
    return { dir, name };
  }

  async writeFile(guestPath: string, content: string | Uint8Array, mode = 0o644): Promise<void> {
    const { dir, name } = await this.parentOf(guestPath);
    const tmp = join(dir, `.${name}.vmgen-${randomBytes(4).toString('hex')}`);
    try {
      await writeFile(tmp, content, { mode, flag: 'wx' });
      await chmod(tmp, mode);
      await rename(tmp, join(dir, name));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async symlink(target: string, guestPath: string): Promise<void> {
    const { dir, name } = await this.parentOf(guestPath);
    const tmp = join(dir, `.${name}.vmgen-${randomBytes(4).toString('hex')}`);
    await symlink(target, tmp);
    await rename(tmp, join(dir, name));
  }

  readFile(guestPath: string): Promise<Buffer> {
    return readFile(resolveInRoot(this.root, guestPath));
  }

  async readLink(guestPath: string): Promise<string | undefined> {
    try {
      return await readlink(resolveInRoot(this.root, guestPath, false));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EINVAL' || code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  async remove(guestPath: string): Promise<void> {
    const host = resolveInRoot(this.root, guestPath, false);
    if (host === this.root || basename(host) === '' || dirname(host) === host) throw new Error(`refusing to remove ${guestPath}`);
    await rm(host, { force: true, recursive: true });
  }
}
