import { routeOutput } from '../shared.js';
import type { RegisterCommand, RegisterLabCommand } from './types.js';
import { registerLabValidate } from './lab-validate.js';
import { registerLabRender } from './lab-render.js';
import { registerLabBuild } from './lab-build.js';
import { registerLabRun } from './lab-run.js';

// Subcommand files import RegisterLabCommand from ./types.js: importing it from here would be a cycle.
export type { RegisterLabCommand };

/** Every `vmgen lab` subcommand, in the order `vmgen lab --help` lists them. */
const LAB_COMMANDS: readonly RegisterLabCommand[] = [
  registerLabValidate,
  registerLabRender,
  registerLabBuild,
  registerLabRun,
];

export const registerLab: RegisterCommand = (program, io, setExit) => {
  const lab = program.command('lab').description('Labs: a network of machines from one lab file (validate, render, build; up, verify, down a built lab)');
  routeOutput(lab, io);
  for (const register of LAB_COMMANDS) register(lab, io, setExit);
};
