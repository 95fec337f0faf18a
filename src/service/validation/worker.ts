import { workerData } from 'node:worker_threads';
import type { Catalogs } from '../../catalog/schema.js';
import type { SourcePolicy } from '../source-policy.js';
import { serveWorker } from './pool.js';
import { checkContext, runCheck, type CheckTask } from './tasks.js';

/** A config checker thread: see checker.ts. */
const data = workerData as { catalogs: Catalogs; policy?: SourcePolicy };
const ctx = checkContext(data.catalogs, data.policy);
serveWorker((task) => runCheck(ctx, task as CheckTask));
