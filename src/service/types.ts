import type { RequestFiles } from './request-files.js';
import type { BuildState, BuildStateTable, FinalBuildState } from './web/shared-types.js';

/**
 * The contract between the HTTP service (API, SQLite job table, users) and what runs builds
 * (an in-process executor with N slots, or BullMQ workers on other machines). The service owns
 * the job table; executors only report what happened to a build, through onUpdate.
 */
export type { BuildState, FinalBuildState } from './web/shared-types.js';

/** The shared table at run time; its type makes it list every state with its finality. */
const FINALITY: BuildStateTable = { queued: false, running: false, succeeded: true, failed: true, canceled: true };

export const BUILD_STATES = Object.keys(FINALITY) as BuildState[];

export function isFinalState(state: string): state is FinalBuildState {
  return Object.hasOwn(FINALITY, state) && FINALITY[state as BuildState];
}

/** The states a build ends in. */
export const FINAL_STATES: readonly FinalBuildState[] = BUILD_STATES.filter(isFinalState);

/** What an executor needs to run one build. `config` is the config text, validated by the service. */
export interface BuildRequest {
  id: string;
  owner: string;
  config: string;
  target: string;
  format?: string;
  /** The files the config's source keys name (relative path → base64), checked by the service. */
  files?: RequestFiles;
  /** A lab's job (`files` are then the lab's files, `config` the machine's config or the lab file). */
  lab?: LabJobRequest;
}

/**
 * A job of a lab (issue 16): one machine, built as `buildLabMember` builds it, or, once every
 * machine is built, the assembly of their outputs into the lab's archive. Both read the lab again
 * from its text and files (the worker may be on another host), so what they build is what the
 * service validated.
 */
export type LabJobRequest =
  | { role: 'member'; lab: string; text: string; machine: string }
  | { role: 'assemble'; lab: string; text: string; members: Array<{ machine: string; artifact: ArtifactInfo }> };

export interface ArtifactInfo {
  /** Key in the artifact store (a relative path for the directory store, an object key for S3). */
  key: string;
  /** The file name a download offers, e.g. web1-lxc.tar.zst. */
  name: string;
  bytes: number;
  sha256: string;
}

/** A change to one build; fields left out are unchanged. Log lines are appended in order. */
export interface BuildUpdate {
  id: string;
  state?: BuildState;
  step?: string;
  /** 0..1 over the whole build. */
  progress?: number;
  started?: string;
  finished?: string;
  error?: string;
  errorCode?: string;
  /** The machine (worker name) that ran or runs the build. */
  worker?: string;
  artifact?: ArtifactInfo;
  log?: string[];
}

export interface Executor {
  /** Starts taking work; every change to a build is reported through onUpdate, in order per build. */
  start(onUpdate: (u: BuildUpdate) => void): Promise<void>;
  submit(req: BuildRequest): Promise<void>;
  /** Cancels a queued or running build; it ends as 'canceled' through onUpdate. */
  cancel(id: string): Promise<void>;
  /** Stops taking work; running builds are cancelled (local) or left to the queue (redis). */
  close(): Promise<void>;
  /**
   * After a restart, reports through onUpdate what became of these builds (the table has them
   * queued or running). Only an executor whose builds outlive the server has it: the queue's.
   */
  resync?(ids: readonly string[]): Promise<void>;
}

/** Where finished archives live: a directory shared by server and workers, or an S3 bucket. */
export interface ArtifactStore {
  /**
   * Moves or uploads complete local files, which the artifact is made of joined in order (a
   * container build's cached layer part, then its own part); it becomes visible only when whole.
   */
  put(key: string, files: string | readonly string[]): Promise<{ bytes: number; sha256: string }>;
  /** A readable stream of bytes [start, end] inclusive (the whole object when range is omitted). */
  open(key: string, range?: { start: number; end: number }): Promise<NodeJS.ReadableStream>;
  stat(key: string): Promise<{ bytes: number } | undefined>;
  delete(key: string): Promise<void>;
}
