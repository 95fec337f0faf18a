/**
 * JSON the service sends and the web page reads, declared once for both. A declaration file on
 * purpose: the page's tsconfig (web/, rootDir web/src) may take in a .d.ts from outside its root,
 * where a .ts would be compiled into the page; nothing here exists at run time, so both sides
 * import it with `import type`.
 */

/** GET /api/config/apps: one catalog app, and why this OS cannot install it when it cannot. */
export interface OfferedApp {
  name: string;
  category: string;
  description: string;
  available: boolean;
  reason?: string;
  hint?: string;
}

/** POST /api/builds/:id/download-link: a URL that fetches the artifact without a token until `expires`. */
export interface DownloadLink {
  /** Path and query on this server (relative: the service does not know the address it is reached at). */
  url: string;
  /** ISO 8601; the link answers 403 after it. */
  expires: string;
}

/** A succeeded build's `run`: one command that starts its archive, for a POSIX shell in the folder it was saved to, and what it does. */
export interface RunStep {
  what: string;
  command: string;
}

/**
 * The one table of build states: each state, and whether it is final (the build has ended and no
 * state follows). A declaration holds no values, so service/types.ts and the page each spell the
 * table out once at run time, typed by this interface: a state added, dropped or turned final here
 * fails the compiler on both sides until they follow.
 */
export interface BuildStateTable {
  queued: false;
  running: false;
  succeeded: true;
  failed: true;
  canceled: true;
}
export type BuildState = keyof BuildStateTable;
export type FinalBuildState = { [S in BuildState]: BuildStateTable[S] extends true ? S : never }[BuildState];

/**
 * A lab (issue 16) as the page draws it: the topology from the lab file (networks, machines and
 * their NICs), never the machine configs, which hold passwords.
 */
export interface LabTopology {
  name: string;
  description?: string;
  networks: Array<{ name: string; subnet: string; gateway?: string }>;
  machines: Array<{ name: string; group: string; nics: Array<{ nic: string; network: string; address: string }> }>;
}

/** A lab's state, derived from its jobs' states (see service/labs/state.ts). */
export type LabState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** GET /api/labs/:id */
export interface LabView {
  id: string;
  name: string;
  target: string;
  format: string;
  state: LabState;
  /** Whether the state is one a lab ends in. */
  final: boolean;
  created: string;
  topology: LabTopology;
  /** One per machine, in the topology's order: its build job and the job's state. */
  machines: Array<{ name: string; build: string; state: BuildState; step: string | null; progress: number; worker?: string; error?: string }>;
  /** The job that puts the machines' outputs together into the lab's archive, once they are all built. */
  assembly?: { build: string; state: BuildState; worker?: string; error?: string };
  error?: string;
  archive?: { name: string; bytes: number; sha256: string };
  owner?: string;
}
