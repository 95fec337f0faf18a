import { CommandCommunicator, GUEST_ENV } from './command.js';

/**
 * Reaches a running container by entering the namespaces of its init process. For
 * systemd-nspawn guests booted with --register=no: they are not machines machined knows, so
 * `machinectl shell` and `systemd-run -M` cannot reach them.
 *
 * --root and --wd take the init's root and working directory: entering the mount namespace alone
 * leaves a process in the host's root directory. No cgroup or user namespace: nspawn without
 * --private-users has none of its own, and the host's is what the guest runs in.
 */
export class NsenterCommunicator extends CommandCommunicator {
  readonly description: string;

  constructor(readonly pid: number) {
    super();
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`bad container init PID: ${pid}`);
    this.description = `nsenter into PID ${pid}`;
  }

  static argv(pid: number, argv: readonly string[]): [string, ...string[]] {
    return ['nsenter', '--target', String(pid), '--mount', '--uts', '--ipc', '--net', '--pid', '--root', '--wd', '--', ...argv];
  }

  protected hostArgv(argv: readonly string[]): [string, ...string[]] {
    return NsenterCommunicator.argv(this.pid, argv);
  }

  /** nsenter passes its own environment on to the guest command, so it gets the guest's. */
  protected override hostEnv(): NodeJS.ProcessEnv {
    return { ...GUEST_ENV };
  }
}
