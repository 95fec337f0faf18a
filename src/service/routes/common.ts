import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { VmgenError } from '../../errors.js';
import type { BuildRow, User } from '../db.js';
import { isFinalState } from '../types.js';
import { TARGET_IDS } from '../../targets/registry.js';
import { stepsOf } from '../../targets/run-commands.js';
import type { BuildView } from '../api/schemas.js';

export type { BuildView } from '../api/schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on /api/ requests that carry a valid token. */
    user?: User;
  }
}

/** What one user may ask of the API; enforced by app.ts (body, rate) and the job table (queue). */
export interface ServiceLimits {
  /** Largest request body, bytes. */
  bodyLimit: number;
  /** API requests per token (or per address, without one) per minute. */
  rateLimitPerMinute: number;
  /** Builds one user may have waiting at once. */
  maxQueuedPerUser: number;
  /** Time one config may take to read (its worker thread is ended after), ms. */
  checkTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServiceLimits = { bodyLimit: 256 * 1024, rateLimitPerMinute: 600, maxQueuedPerUser: 20, checkTimeoutMs: 5000 };

/** Build ids: 12 random bytes, base64url. Every route checks an id against this before any lookup. */
export const BUILD_ID = /^[A-Za-z0-9_-]{16}$/;

/**
 * A new build id. It starts with a letter or digit because it starts the archive's file name, and a
 * name starting with '-' reads as an option to every shell tool (the CLI refuses to save one).
 */
export function newBuildId(): string {
  for (;;) {
    const id = randomBytes(12).toString('base64url');
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

/** A build as the API shows it: the config stays out (fetch it with the build, not in lists), the owner only for admins. */
export function buildView(row: BuildRow, viewer: User): BuildView {
  return {
    id: row.id, state: row.state, final: isFinalState(row.state), target: row.target, format: row.format, name: row.name,
    step: row.step, steps: row.steps, progress: row.progress, created: row.created, started: row.started, finished: row.finished,
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.errorCode !== null ? { errorCode: row.errorCode } : {}),
    ...(row.worker !== null ? { worker: row.worker } : {}),
    // Only a finished artifact is offered: a row gets one only after the store holds all of it.
    ...(row.artifact && row.state === 'succeeded' ? { artifact: { name: row.artifact.name, bytes: row.artifact.bytes, sha256: row.artifact.sha256 } } : {}),
    ...(row.artifact && row.state === 'succeeded' && row.run.length > 0 ? { run: stepsOf(row.run, row.artifact.name) } : {}),
    ...(viewer.admin ? { owner: row.owner } : {}),
  };
}

/** The authenticated user; the app-level hook has already refused requests without one. */
export function userOf(req: FastifyRequest): User {
  if (!req.user) throw new VmgenError('VMG_UNAUTHORIZED', 'a valid API token is required', { hint: 'send Authorization: Bearer TOKEN (vmgen token create NAME)' });
  return req.user;
}

/**
 * The build an id names, if the caller may see it. Someone else's build is "not found", exactly as
 * a build that does not exist, so ids cannot be probed.
 */
export function visibleBuild(lookup: (id: string) => BuildRow | undefined, req: FastifyRequest, id: string): BuildRow {
  const user = userOf(req);
  const row = BUILD_ID.test(id) ? lookup(id) : undefined;
  if (!row || (row.ownerId !== user.id && !user.admin)) throw new VmgenError('VMG_NOT_FOUND', `no build ${BUILD_ID.test(id) ? id : '(bad id)'}`);
  return row;
}

/** A field of a JSON body (or a parsed query) as sent, or undefined when it is not an object. */
export function bodyField(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

/** Body fields arrive untyped: a string or nothing, else a 400. */
export function stringField(body: unknown, name: string, required: boolean, max = Infinity): string | undefined {
  const v = bodyField(body, name);
  if (v === undefined || v === null) {
    if (required) throw new VmgenError('VMG_USAGE', `the request body needs "${name}"`, { hint: `send JSON: {"config": "…", "target": "${TARGET_IDS[0]}"}` });
    return undefined;
  }
  if (typeof v !== 'string') throw new VmgenError('VMG_USAGE', `"${name}" must be a string`);
  if (v.length > max) throw new VmgenError('VMG_TOO_LARGE', `"${name}" is longer than ${max} characters`);
  return v;
}
