import type { Command } from 'commander';
import type { CliIo } from '../io.js';

/** Each command file exports one of these; commands/index.ts lists them in order. */
export type RegisterCommand = (program: Command, io: CliIo, setExit: (code: number) => void) => void;

/** A `vmgen lab` subcommand (lab-<name>.ts): registered on the group, like a top-level command on the program. */
export type RegisterLabCommand = (lab: Command, io: CliIo, setExit: (code: number) => void) => void;
