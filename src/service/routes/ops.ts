import type { FastifyInstance } from 'fastify';
import type { Health } from '../api/schemas.js';
import type { AppDeps } from '../app-deps.js';

/** Public, for load balancers and Prometheus: no token, nothing about anyone's builds beyond counts. */
export function opsRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { db, metrics, events } = deps;

  app.get('/healthz', async (_req, reply) => {
    try {
      db.schemaVersion();
    } catch {
      return reply.code(503).send({ ok: false } satisfies Health);
    }
    return { ok: true } satisfies Health;
  });

  app.get('/metrics', async (_req, reply) => {
    const builds = db.countsByState();
    return reply.type('text/plain; version=0.0.4; charset=utf-8')
      .send(metrics.render({ builds, queueLength: builds.queued, followers: events.count() }));
  });
}
