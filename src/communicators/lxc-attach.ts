import { isAbsolute } from 'node:path';
import { CommandCommunicator, guestEnvPairs } from './command.js';

/**
 * Reaches a running LXC container through lxc-attach. --clear-env: the host's environment (its
 * PATH, locale, proxy settings) must not decide what a guest command finds or prints.
 */
export class LxcAttachCommunicator extends CommandCommunicator {
  readonly description: string;

  constructor(readonly name: string, readonly lxcpath: string) {
    super();
    if (name === '' || name.startsWith('-')) throw new Error(`bad container name: ${JSON.stringify(name)}`);
    if (!isAbsolute(lxcpath)) throw new Error(`lxcpath must be absolute: ${lxcpath}`);
    this.description = `lxc-attach ${name} (lxcpath ${lxcpath})`;
  }

  static argv(name: string, lxcpath: string, argv: readonly string[]): [string, ...string[]] {
    const env = guestEnvPairs().flatMap((pair) => ['--set-var', pair]);
    return ['lxc-attach', '-n', name, '-P', lxcpath, '--clear-env', ...env, '--', ...argv];
  }

  protected hostArgv(argv: readonly string[]): [string, ...string[]] {
    return LxcAttachCommunicator.argv(this.name, this.lxcpath, argv);
  }
}
