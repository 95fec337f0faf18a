import type { FastifyInstance } from 'fastify';
import { configJsonSchema } from '../../config/json-schema.js';
import { kindRunsOs } from '../../targets/limits.js';
import { BUILDABLE_TARGETS } from '../../targets/commanders.js';
import type { CatalogBody, Me, TargetInfo } from '../api/schemas.js';
import type { AppDeps } from '../app-deps.js';
import { REQUEST_FILE_LIMITS } from '../request-files.js';
import { userOf } from './common.js';

/** What a client needs to write a config and pick a target: catalog, schema, targets, and who it is. */
export function infoRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { catalogs } = deps;
  // Both are fixed for the server's life; made once, on first use.
  let schema: Record<string, unknown> | undefined;

  app.get('/api/catalog', async (): Promise<CatalogBody> => ({ os: catalogs.os, apps: catalogs.apps }));

  app.get('/api/schema', async () => (schema ??= configJsonSchema(catalogs)));

  app.get('/api/targets', async (): Promise<TargetInfo[]> => BUILDABLE_TARGETS.map((t) => ({
    id: t.id, label: t.label, kind: t.kind, formats: [...t.commander.formats], defaultFormat: t.commander.formats[0]!,
    // The OSes it can run, so the page offers no other (the validator says the same of a config).
    os: catalogs.os.filter((o) => kindRunsOs(t.kind, o)).map((o) => o.id),
  })));

  // Who the caller is, and what this server takes from them: the page offers only what it accepts.
  app.get('/api/me', async (req): Promise<Me> => {
    const user = userOf(req);
    return {
      name: user.name, admin: user.admin, maxQueued: deps.limits.maxQueuedPerUser,
      allowScripts: deps.sourcePolicy?.allowBuildScripts === true, files: REQUEST_FILE_LIMITS,
    };
  });
}
