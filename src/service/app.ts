import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Catalogs } from '../catalog/schema.js';
import { ERROR_CODES, VmgenError, type ErrorCode } from '../errors.js';
import { bearerToken, hashToken } from './auth.js';
import { clientAddressKey } from './ip.js';
import { filesBodyLimit } from './request-files.js';
import { hostSourcePolicy } from './source-policy.js';
import { isPublicRoute } from './api/routes.js';
import { apiDocRoutes } from './routes/api-docs.js';
import { artifactRoutes } from './routes/artifact.js';
import { buildRoutes } from './routes/builds.js';
import { eventRoutes } from './routes/events.js';
import { infoRoutes } from './routes/info.js';
import { labRoutes } from './routes/labs.js';
import { opsRoutes } from './routes/ops.js';
import type { AppDeps, RouteDeps } from './app-deps.js';
import { workerChecker, type ConfigChecker } from './validation/checker.js';
import { webPlugin } from './web/plugin.js';

export { DEFAULT_LIMITS, type ServiceLimits } from './routes/common.js';
export type { AppDeps, RouteDeps } from './app-deps.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Whose budget a request counts against: a valid token's hash, else the client's address. */
    rateKey?: string;
  }
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

  const onRoute = deps.onRoute;
  if (onRoute) {
    app.addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) onRoute({ method, url: r.url });
    });
  }

  app.setErrorHandler((err: FastifyError | VmgenError, req, reply) => {
    if (err instanceof VmgenError) {
      const status = ERROR_CODES[err.code].http;
      if (status >= 500) req.log.error({ code: err.code, msg: err.message }, 'request failed');
      const body = errorBody(err.code, err.message, err.hint);
      return reply.code(status).send(err.diagnostics ? { ...body, diagnostics: err.diagnostics.items } : body);
    }
    const e = err as FastifyError;
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      // Routes that take files have their own, larger limit.
      const limit = req.routeOptions.bodyLimit ?? deps.limits.bodyLimit;
      return reply.code(413).send(errorBody('VMG_TOO_LARGE', `the request body is larger than ${limit} bytes`,
        limit > deps.limits.bodyLimit ? `a config and its files may take ${limit} bytes of JSON (files in base64)` : undefined));
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
    // The onRequest hook below sets the key; a request it did not see is counted by its address.
    keyGenerator: (req) => req.rateKey ?? `a:${clientAddressKey(req.ip)}`,
    errorResponseBuilder: (_req, ctx) => new VmgenError('VMG_RATE_LIMITED', `too many requests: at most ${ctx.max} a minute`, { hint: `retry in ${ctx.after}` }),
  });
  const limiter = app.rateLimit();
  app.addHook('onRequest', async (req, reply) => {
    if (!isApi(req)) return;
    // A valid token has its own budget, keyed by what it parses to, so respelling the header
    // (case, spaces) is the same budget; anything else counts against the client's address, so
    // guessing tokens is limited as much as any anonymous request. The limit comes before the 401.
    const token = bearerToken(req.headers.authorization);
    const hash = token === undefined ? undefined : hashToken(token);
    const user = hash === undefined ? undefined : deps.db.userForTokenHash(hash);
    req.rateKey = user ? `t:${hash}` : `a:${clientAddressKey(req.ip)}`;
    await limiter.call(app, req, reply);
    // The route table says which /api/ routes anyone may call (the description of the API itself).
    if (isPublicRoute(req.method, req.routeOptions.url)) return;
    if (!user) {
      reply.header('www-authenticate', 'Bearer realm="vmgen"');
      throw new VmgenError('VMG_UNAUTHORIZED', 'a valid API token is required', { hint: 'send Authorization: Bearer TOKEN (an admin makes one: vmgen token create NAME)' });
    }
    req.user = user;
  });

  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.httpRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  const checker = deps.checker ?? workerChecker({
    catalogs: deps.catalogs, policy: deps.sourcePolicy ?? hostSourcePolicy(), timeoutMs: deps.limits.checkTimeoutMs,
  });
  if (!deps.checker) app.addHook('onClose', () => checker.close());
  const routeDeps: RouteDeps = { ...deps, checker };
  buildRoutes(app, routeDeps);
  labRoutes(app, routeDeps);
  eventRoutes(app, routeDeps);
  artifactRoutes(app, routeDeps);
  infoRoutes(app, routeDeps);
  opsRoutes(app, routeDeps);
  apiDocRoutes(app);
  await app.register(webPlugin as FastifyPluginAsync<{ catalogs: Catalogs; checker: ConfigChecker; filesBodyLimit: number; assetsDir?: string }>,
    { catalogs: deps.catalogs, checker, filesBodyLimit: filesBodyLimit(deps.limits.bodyLimit), ...(deps.webAssetsDir ? { assetsDir: deps.webAssetsDir } : {}) });
  return app;
}
