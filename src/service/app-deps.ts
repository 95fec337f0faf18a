import type { Logger } from 'pino';
import type { Catalogs } from '../catalog/schema.js';
import type { ServiceDb } from './db.js';
import type { BuildEvents } from './events.js';
import type { Jobs } from './jobs.js';
import type { Metrics } from './metrics.js';
import type { ServiceLimits } from './routes/common.js';
import type { SourcePolicy } from './source-policy.js';
import type { ArtifactStore } from './types.js';
import type { ConfigChecker } from './validation/checker.js';

/** What the HTTP app is made from; routes get the same, with the checker made (RouteDeps). */
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
  /** Which mirrors and repositories configs may name; default: the host's own apt sources. */
  sourcePolicy?: SourcePolicy;
  /** Reads configs users send; default: worker threads under limits.checkTimeoutMs, closed with the app. */
  checker?: ConfigChecker;
  /** The built web page; default: dist/web of this checkout or package (tests build their own). */
  webAssetsDir?: string;
  /** Told of every route as fastify registers it, before any: the API description's test lists them so. */
  onRoute?: (route: { method: string; url: string }) => void;
}

/** What routes get: the app's dependencies with the checker made. */
export type RouteDeps = AppDeps & { checker: ConfigChecker };
