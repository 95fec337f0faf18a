import type { Writable } from 'node:stream';

/** Where a command writes; injected so tests can run commands in-process. */
export interface CliIo {
  stdout: Pick<Writable, 'write'>;
  stderr: Pick<Writable, 'write'>;
  cwd: string;
}

export const processIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
};

/** A command action returns its exit status; throwing VmgenError is the other way out. */
export type CommandResult = number | void;
