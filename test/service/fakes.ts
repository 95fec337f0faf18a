/**
 * Test-only stand-ins for what runs builds, so the API, job table and CLI can be tested without
 * mmdebstrap: an executor that records what it is asked and reports what a test tells it to, or
 * (auto mode) "builds" a small file and puts it into a real artifact store as the real one does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadCatalogs } from '../../src/catalog/load.js';
import type { Catalogs } from '../../src/catalog/schema.js';
import { createApp } from '../../src/service/app.js';
import { DirArtifactStore } from '../../src/service/artifacts/index.js';
import { createToken } from '../../src/service/auth.js';
import { ServiceDb } from '../../src/service/db.js';
import { BuildEvents } from '../../src/service/events.js';
import { Metrics } from '../../src/service/metrics.js';
import type { SourcePolicy } from '../../src/service/source-policy.js';
import { DEFAULT_LIMITS, type ServiceLimits } from '../../src/service/routes/common.js';
import { Jobs } from '../../src/service/jobs.js';
import type { ArtifactStore, BuildRequest, BuildUpdate, Executor } from '../../src/service/types.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const WEB_CONF = join(ROOT, 'examples', 'debian-web.conf');

let catalogs: Catalogs | undefined;
export function testCatalogs(): Catalogs {
  return (catalogs ??= loadCatalogs({ env: {} }));
}

/** The content the fake "builds" for a request: distinct per build, so a mix-up shows. */
export function fakeArchive(req: BuildRequest): string {
  return `archive of ${req.id} for ${req.owner}: ${req.target}\n`.repeat(50);
}

export class FakeExecutor implements Executor {
  readonly submitted: BuildRequest[] = [];
  readonly canceled: string[] = [];
  started = false;
  closed = false;
  /** Set by a test to make submit() fail (an unreachable queue). */
  failSubmit: Error | undefined;
  private onUpdate: ((u: BuildUpdate) => void) | undefined;
  private readonly running = new Set<string>();

  /** auto: each submitted build runs at once and succeeds with fakeArchive() stored in `store`; tests may switch it. */
  constructor(public auto?: { store: ArtifactStore; dir: string }) {}

  async start(onUpdate: (u: BuildUpdate) => void): Promise<void> {
    this.onUpdate = onUpdate;
    this.started = true;
  }

  async submit(req: BuildRequest): Promise<void> {
    if (this.failSubmit) throw this.failSubmit;
    this.submitted.push(req);
    this.emit({ id: req.id, state: 'queued' });
    if (this.auto) void this.run(req, this.auto);
  }

  async cancel(id: string): Promise<void> {
    this.canceled.push(id);
    if (this.running.delete(id)) this.emit({ id, state: 'canceled', finished: new Date().toISOString() });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.running]) {
      this.running.delete(id);
      this.emit({ id, state: 'canceled', finished: new Date().toISOString() });
    }
  }

  /** Reports an update as the real executor would. */
  emit(u: BuildUpdate): void {
    if (!this.onUpdate) throw new Error('executor not started');
    this.onUpdate(u);
  }

  /** Marks a build running (as the real executor does when a slot takes it). */
  startBuild(id: string): void {
    this.running.add(id);
    this.emit({ id, state: 'running', started: new Date().toISOString(), worker: 'fake-worker', step: 'check host tools', progress: 0 });
  }

  /** Stores `content` as the build's archive, then reports success, in that order (as the contract asks). */
  async succeed(id: string, store: ArtifactStore, dir: string, content: string | Uint8Array, name = 'web1-lxc.tar.zst'): Promise<void> {
    const file = join(dir, `${id}.out`);
    writeFileSync(file, content);
    const key = `${id}/${name}`;
    const { bytes, sha256 } = await store.put(key, file);
    this.running.delete(id);
    this.emit({ id, state: 'succeeded', finished: new Date().toISOString(), progress: 1, artifact: { key, name, bytes, sha256 } });
  }

  private async run(req: BuildRequest, auto: { store: ArtifactStore; dir: string }): Promise<void> {
    await new Promise((ok) => setImmediate(ok));
    if (!this.submitted.includes(req) || this.canceled.includes(req.id)) return;
    this.startBuild(req.id);
    this.emit({ id: req.id, step: 'configure: system', progress: 0.5, log: [`building ${req.id}`, 'second line'] });
    await this.succeed(req.id, auto.store, auto.dir, fakeArchive(req), `${req.id}-${req.target}.tar.zst`);
  }
}

export interface TestService {
  app: FastifyInstance;
  db: ServiceDb;
  store: DirArtifactStore;
  executor: FakeExecutor;
  jobs: Jobs;
  events: BuildEvents;
  metrics: Metrics;
  dir: string;
  tokens: { alice: string; bob: string; root: string };
  auth(user: 'alice' | 'bob' | 'root'): { authorization: string };
  close(): Promise<void>;
}

/** The app with an in-memory job table, a real directory store in a temp dir, and a fake executor. */
export async function testService(opts: {
  auto?: boolean; limits?: Partial<ServiceLimits>; heartbeatMs?: number; cancelWaitMs?: number; sourcePolicy?: SourcePolicy; webAssetsDir?: string;
  onRoute?: (route: { method: string; url: string }) => void;
} = {}): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-svc-'));
  const db = ServiceDb.memory();
  const store = new DirArtifactStore(join(dir, 'artifacts'));
  const executor = new FakeExecutor(opts.auto ? { store, dir } : undefined);
  const events = new BuildEvents();
  const metrics = new Metrics();
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const jobs = new Jobs({ db, executor, store, events, metrics, maxQueuedPerUser: limits.maxQueuedPerUser, ...(opts.cancelWaitMs ? { cancelWaitMs: opts.cancelWaitMs } : {}) });
  await executor.start(jobs.onUpdate);
  const app = await createApp({
    db, jobs, store, events, metrics, catalogs: testCatalogs(), limits, ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
    // Tests name mirror.example; the host's own apt sources are no business of theirs.
    sourcePolicy: opts.sourcePolicy ?? { allow: ['http://mirror.example'], allowPublic: false },
    ...(opts.webAssetsDir ? { webAssetsDir: opts.webAssetsDir } : {}),
    ...(opts.onRoute ? { onRoute: opts.onRoute } : {}),
  });
  const tokens = {
    alice: createToken(db, 'alice', false).token,
    bob: createToken(db, 'bob', false).token,
    root: createToken(db, 'root', true).token,
  };
  return {
    app, db, store, executor, jobs, events, metrics, dir, tokens,
    auth: (user) => ({ authorization: `Bearer ${tokens[user]}` }),
    close: async () => {
      events.closeAll();
      await app.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `cond` holds (an executor's updates arrive between ticks). */
export async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((ok) => setTimeout(ok, 10));
  }
}
