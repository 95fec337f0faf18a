import type { StepEvent } from '../../steps/run-steps.js';
import type { RequestFiles } from '../request-files.js';

/** What the parent sends the build process: one message, then only signals (SIGTERM cancels). */
export interface StartMessage {
  type: 'start';
  config: string;
  target: string;
  format?: string;
  cacheRoot: string;
  outDir: string;
  /** The files the config's source keys name (relative path → base64); a lab job's: the lab's files. */
  files?: RequestFiles;
  /** A lab's job: `config` is then the machine's config (member) or the lab file (assemble). */
  lab?: LabStart;
}

/** A lab job as the build process runs it: the assembly's member outputs are files on this host by then. */
export type LabStart =
  | { role: 'member'; text: string; machine: string }
  | { role: 'assemble'; text: string; members: Array<{ machine: string; file: string }> };

/** StepEvent as it crosses the IPC channel: a cleanup's error is reduced to its message. */
export type WireStepEvent = Exclude<StepEvent, { kind: 'cleanup-failed' }> | { kind: 'cleanup-failed'; step: string; error: string };

/** What the build process reports, in order; exactly one `done` or `error` ends it. */
export type ChildMessage =
  | { type: 'event'; event: WireStepEvent }
  | { type: 'log'; line: string }
  /** `head`: the archive's first part, kept apart (a link to the layer cache's file); `archive` is the rest. */
  | { type: 'done'; archive: string; head?: string }
  | { type: 'error'; code: string; message: string; hint?: string };
