import { createHash } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Logger } from 'pino';
import type { Catalogs } from '../catalog/schema.js';
import { ERROR_CODES, VmgenError, type ErrorCode } from '../errors.js';
import { authenticate } from './auth.js';
import type { ServiceDb } from './db.js';
import type { BuildEvents } from './events.js';
import type { Metrics } from './metrics.js';
import { artifactRoutes } from './routes/artifact.js';
import { buildRoutes } from './routes/builds.js';
import { eventRoutes } from './routes/events.js';
import { infoRoutes } from './routes/info.js';
import { opsRoutes } from './routes/ops.js';
import type { ServiceLimits } from './routes/common.js';
import type { Jobs } from './server.js';
import type { ArtifactStore } from './types.js';
import { webPlugin } from './web/plugin.js';

export { DEFAULT_LIMITS, type ServiceLimits } from './routes/common.js';

export interface AppDeps {
  db: ServiceDb;
  jobs: Jobs;
  store: ArtifactStore;
  events: BuildEvents;
  metrics: Metrics;
  catalogs: Catalogs;
  limits: ServiceLimits;
  /** A pino logger; none (silent) in tests. */
  logger?: Logger;
  /** SSE keep-alive interval, ms. */
  heartbeatMs?: number;
}

function isApi(req: FastifyRequest): boolean {
  // The matched route decides; the raw path covers /api/ URLs no route matches.
  const route = req.routeOptions.url;
  return (route !== undefined && route.startsWith('/api/')) || req.url === '/api' || req.url.startsWith('/api/') || req.url.startsWith('/api?');
}

/** The one shape every error leaves the API in: {error: {code, message, hint?}}, never a stack. */
function errorBody(code: ErrorCode | string, message: string, hint?: string): { error: { code: string; message: string; hint?: string } } {
  return { error: { code, message, ...(hint ? { hint } : {}) } };
}

/**
 * The HTTP API as a fastify instance, not listening: server.ts listens, tests call inject(). Order
 * matters: the rate limit and the token check are app-level onRequest hooks added before any route
 * or plugin, so every /api/ route (the web plugin's too) inherits them.
 */
export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: deps.limits.bodyLimit,
    // Request bodies are configs with passwords in them: the default serializers log no bodies or headers.
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  app.setErrorHandler((err: FastifyError | VmgenError, req, reply) => {
    if (err instanceof VmgenError) {
      const status = ERROR_CODES[err.code].http;
      if (status >= 500) req.log.error({ code: err.code, msg: err.message }, 'request failed');
      const body = errorBody(err.code, err.message, err.hint);
      return reply.code(status).send(err.diagnostics ? { ...body, diagnostics: err.diagnostics.items } : body);
    }
    const e = err as FastifyError;
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send(errorBody('VMG_TOO_LARGE', `the request body is larger than ${deps.limits.bodyLimit} bytes`));
    }
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      // fastify's own refusals: bad JSON, unsupported content type, and the like.
      return reply.code(e.statusCode).send(errorBody('VMG_USAGE', e.message));
    }
    req.log.error({ err: { message: e.message, code: e.code, stack: e.stack } }, 'unexpected error');
    // What went wrong stays in the server's log: paths and stack frames are not the caller's business.
    return reply.code(500).send(errorBody('VMG_INTERNAL', `the server could not answer (request ${req.id}; its log has the details)`));
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorBody('VMG_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`));
  });

  await app.register(rateLimit, {
    global: false,
    max: deps.limits.rateLimitPerMinute,
    timeWindow: 60_000,
    // Keyed by the token (hashed: keys may be logged) so users behind one address do not share a budget;
    // requests without one share their address's.
    keyGenerator: (req) => {
      const auth = req.headers.authorization;
      return typeof auth === 'string' && auth !== '' ? `t:${createHash('sha256').update(auth).digest('hex')}` : `ip:${req.ip}`;
    },
    errorResponseBuilder: (_req, ctx) => new VmgenError('VMG_RATE_LIMITED', `too many requests: at most ${ctx.max} a minute`, { hint: `retry in ${ctx.after}` }),
  });
  const limiter = app.rateLimit();
  app.addHook('onRequest', async (req, reply) => {
    if (!isApi(req)) return;
    // The limit comes first so that guessing tokens is rate-limited too.
    await limiter.call(app, req, reply);
    const user = authenticate(deps.db, req.headers.authorization);
    if (!user) {
      reply.header('www-authenticate', 'Bearer realm="vmgen"');
      throw new VmgenError('VMG_UNAUTHORIZED', 'a valid API token is required', { hint: 'send Authorization: Bearer TOKEN (an admin makes one: vmgen token create NAME)' });
    }
    req.user = user;
  });

  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.httpRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  buildRoutes(app, deps);
  eventRoutes(app, deps);
  artifactRoutes(app, deps);
  infoRoutes(app, deps);
  opsRoutes(app, deps);
  // The page's plugin reads opts.catalogs (its own type may not say so yet).
  await app.register(webPlugin as FastifyPluginAsync<{ catalogs: Catalogs }>, { catalogs: deps.catalogs });
  return app;
}
