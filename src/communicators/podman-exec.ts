import { CommandCommunicator, guestEnvPairs } from './command.js';

/**
 * Reaches a running podman container through `podman exec`. As root (user 0), whatever USER the
 * image names: verifying reads /etc/shadow, and writing files needs root as under the other
 * communicators. The guest environment is set explicitly so the image's ENV cannot change which
 * programs run or how their output reads.
 */
export class PodmanExecCommunicator extends CommandCommunicator {
  readonly description: string;

  constructor(readonly containerName: string) {
    super();
    if (containerName === '' || containerName.startsWith('-')) throw new Error(`bad container name: ${JSON.stringify(containerName)}`);
    this.description = `podman exec ${containerName}`;
  }

  /** podman stops reading its own options at the container name, so the command needs no `--`. */
  static argv(containerName: string, argv: readonly string[]): [string, ...string[]] {
    const env = guestEnvPairs().flatMap((pair) => ['--env', pair]);
    return ['podman', 'exec', '-i', '--user', '0', ...env, containerName, ...argv];
  }

  protected hostArgv(argv: readonly string[]): [string, ...string[]] {
    return PodmanExecCommunicator.argv(this.containerName, argv);
  }
}
