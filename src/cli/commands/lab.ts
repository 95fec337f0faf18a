import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { routeOutput } from '../shared.js';
import type { RegisterCommand } from './types.js';
import { registerLabRun } from './lab-run.js';

/** A `vmgen lab` subcommand: registered on the group, like a top-level command on the program. */
export type RegisterLabCommand = (lab: Command, io: CliIo, setExit: (code: number) => void) => void;

/** Every `vmgen lab` subcommand, in the order `vmgen lab --help` lists them. */
const LAB_COMMANDS: readonly RegisterLabCommand[] = [
  registerLabRun,
];

export const registerLab: RegisterCommand = (program, io, setExit) => {
  const lab = program.command('lab').description('Labs: a network of machines from one lab file (validate, render, build; up, verify, down a built lab)');
  routeOutput(lab, io);
  for (const register of LAB_COMMANDS) register(lab, io, setExit);
};
