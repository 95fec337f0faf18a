import type { Diagnostic } from './diagnostics.js';

/**
 * Error codes for failures that are not config diagnostics: usage, I/O, build steps.
 * One table, so the CLI's exit codes and the API's HTTP statuses stay in step.
 */
export const ERROR_CODES = {
  VMG_USAGE: { exit: 2, http: 400, message: 'bad command line' },
  VMG_CONFIG_INVALID: { exit: 1, http: 422, message: 'the config does not validate' },
  VMG_FILE_READ: { exit: 1, http: 400, message: 'cannot read a file' },
  VMG_FILE_WRITE: { exit: 1, http: 500, message: 'cannot write a file' },
  VMG_KEY_PATH: { exit: 1, http: 400, message: 'bad key path' },
  VMG_NOT_FOUND: { exit: 1, http: 404, message: 'not found' },
  VMG_CATALOG: { exit: 1, http: 500, message: 'a catalog file is invalid' },
  VMG_CACHE_KEY: { exit: 1, http: 500, message: 'bad build cache key' },
  VMG_CACHE_IO: { exit: 1, http: 500, message: 'cannot use the build cache directory' },
  VMG_CACHE_LOCKED: { exit: 1, http: 503, message: 'timed out waiting for a build cache lock' },
  VMG_CACHE_LOCK_LOST: { exit: 1, http: 500, message: 'lost a build cache lock' },
  VMG_MIRROR: { exit: 1, http: 502, message: 'the package mirror cannot be used' },
  VMG_PACKAGE: { exit: 1, http: 422, message: 'a package cannot be installed' },
  VMG_BUILD: { exit: 1, http: 500, message: 'a build step failed' },
  VMG_DISK_FULL: { exit: 1, http: 507, message: 'no space left for the build' },
  VMG_TOOL_MISSING: { exit: 1, http: 500, message: 'a required host tool is missing' },
  VMG_CANCELLED: { exit: 1, http: 409, message: 'the build was cancelled' },
  VMG_VERIFY: { exit: 1, http: 500, message: 'the guest does not match its spec' },
  VMG_UNSUPPORTED: { exit: 1, http: 422, message: 'not supported for this target or OS' },
  VMG_UNAUTHORIZED: { exit: 1, http: 401, message: 'a valid API token is required' },
  VMG_RATE_LIMITED: { exit: 1, http: 429, message: 'too many requests' },
  VMG_QUEUE_FULL: { exit: 1, http: 429, message: 'too many queued builds' },
  VMG_CONFIG_TOO_COMPLEX: { exit: 1, http: 422, message: 'the config took too long or too much memory to read' },
  VMG_BUSY: { exit: 1, http: 503, message: 'the server is busy' },
  VMG_TOO_LARGE: { exit: 1, http: 413, message: 'the request is too large' },
  VMG_RANGE: { exit: 1, http: 416, message: 'the requested range is not satisfiable' },
  VMG_INTERRUPTED: { exit: 1, http: 500, message: 'the server stopped during the build' },
  VMG_SERVICE: { exit: 1, http: 502, message: 'the vmgen service answered with an error' },
  VMG_CHECKSUM: { exit: 1, http: 500, message: 'a download does not match its SHA-256' },
  VMG_INTERNAL: { exit: 70, http: 500, message: 'internal error' },
  VMG_ARTIFACT_KEY: { exit: 1, http: 400, message: 'bad artifact key' },
  VMG_ARTIFACT_STORE: { exit: 1, http: 502, message: 'the artifact store cannot be used' },
  VMG_QUEUE: { exit: 1, http: 503, message: 'the build queue cannot be used' },
  VMG_RUNNER: { exit: 1, http: 500, message: 'the build process ended unexpectedly' },
  VMG_WINDOWS_SCRIPT: { exit: 1, http: 422, message: 'a value cannot be written into a Windows script' },
  VMG_KIT_MISSING: { exit: 1, http: 422, message: 'a Windows installer kit is missing' },
  VMG_LAB_RUN: { exit: 1, http: 500, message: 'the lab cannot be started or stopped here' },
  VMG_LAB_STATE: { exit: 1, http: 409, message: 'the lab is not in the state the command needs' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An expected failure: the CLI prints its message (no stack) and exits with its code's exit status. */
export class VmgenError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** Problems at places in a file, printed as FILE:LINE:COL diagnostics instead of the message. */
  readonly diagnostics: { file: string; items: Diagnostic[] } | undefined;
  /** The config key the failure is about (['scripts', 'stamp', 'run']): whoever holds the file's places reports it at its line. */
  readonly at: readonly string[] | undefined;

  constructor(code: ErrorCode, message: string, options?: { hint?: string; cause?: unknown; diagnostics?: { file: string; items: Diagnostic[] }; at?: readonly string[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VmgenError';
    this.code = code;
    this.hint = options?.hint;
    this.diagnostics = options?.diagnostics;
    this.at = options?.at;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }
}
