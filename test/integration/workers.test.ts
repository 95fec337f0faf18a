import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createArtifactStore } from '../../src/service/artifacts/index.js';
import { createExecutor } from '../../src/service/executors/index.js';
import { isFinalState, type BuildUpdate, type Executor } from '../../src/service/types.js';
import { IS_ROOT, lastLine, ROOT, vmgen } from './helpers.js';
import { freePort } from '../helpers/net.js';

/**
 * Scale-out on BullMQ: a redis-server started here on a free loopback port, two `vmgen worker`
 * processes (the built CLI, as an operator runs it) sharing one artifact directory, and the
 * server's side of the queue (createExecutor with `queue`) in this process. Builds are warm
 * container builds of examples/debian-web.conf on the default cache.
 */
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const skip = !IS_ROOT ? 'needs root (real builds)' : !hasRedis ? 'needs redis-server (scripts/setup.sh installs it)' : false;
const CONFIG = readFileSync(join(ROOT, 'examples', 'debian-web.conf'), 'utf8');
const withHostname = (name: string): string => CONFIG.replace(/^(\s*hostname\s*=\s*).*$/m, `$1${name}`);
// Short locks so a killed worker's build is noticed in seconds rather than the default 30 s.
const LOCK_MS = 3000;

/** Starts a process and resolves once its stdout matches `ready`. */
function startProcess(cmd: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<{ proc: ChildProcess; output: () => string }> {
  const proc = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start:\n${out}`)), 30_000);
    const check = (): void => {
      if (ready.test(out)) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        resolve({ proc, output: () => out });
      }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}:\n${out}`));
    });
  });
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).flatMap((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(p)] : [];
    } catch {
      return [];
    }
  });
}

function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('BullMQ workers', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-workers-'));
  const artifacts = join(dir, 'artifacts');
  const stored = async (key: string): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of await createArtifactStore({ dir: artifacts }).open(key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  let redis: ChildProcess | undefined;
  let queue = '';
  const workers = new Map<string, { proc: ChildProcess; output: () => string }>();
  let ex: Executor;
  const updates: BuildUpdate[] = [];
  let waiters: Array<{ test: (u: BuildUpdate) => boolean; resolve: (u: BuildUpdate) => void }> = [];

  const next = (test: (u: BuildUpdate) => boolean, ms = 180_000): Promise<BuildUpdate> => {
    const seen = updates.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; updates:\n${updates.map((u) => JSON.stringify(u).slice(0, 160)).join('\n')}\n${[...workers].map(([n, w]) => `--- ${n}\n${w.output()}`).join('\n')}`)), ms);
      waiters.push({ test, resolve: (u) => (clearTimeout(timer), resolve(u)) });
    });
  };
  const end = (id: string): Promise<BuildUpdate> => next((u) => u.id === id && isFinalState(u.state ?? ''));
  const workerOf = (id: string): string[] => updates.filter((u) => u.id === id && u.worker).map((u) => u.worker!);

  const startWorker = async (name: string): Promise<void> => {
    workers.set(name, await startProcess(process.execPath, [
      join(ROOT, 'bin', 'vmgen.js'), 'worker', '--queue', queue, '--data', join(dir, name), '--artifacts', artifacts, '--concurrency', '1', '--name', name,
    ], new RegExp(`^worker ${name} taking builds from`, 'm'), { VMGEN_QUEUE_LOCK_MS: String(LOCK_MS) }));
  };

  before(async () => {
    const port = await freePort();
    queue = `redis://127.0.0.1:${port}`;
    redis = (await startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept connections/)).proc;
    await Promise.all([startWorker('wa'), startWorker('wb')]);
    ex = createExecutor({ queue, concurrency: 1, artifacts: createArtifactStore({ dir: artifacts }), workDir: join(dir, 'server-work') });
    await ex.start((u) => {
      updates.push(u);
      waiters = waiters.filter((w) => (w.test(u) ? (w.resolve(u), false) : true));
    });
  });

  after(async () => {
    await ex?.close();
    for (const w of workers.values()) w.proc.kill('SIGKILL');
    redis?.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds run on both workers, each reports its worker, and the archives land in the shared store', async () => {
    const ids = ['q1', 'q2', 'q3', 'q4'];
    for (const id of ids) await ex.submit({ id, owner: 'alice', config: withHostname(`worker-${id}`), target: 'lxc' });
    const ends = await Promise.all(ids.map(end));
    for (const e of ends) assert.equal(e.state, 'succeeded', JSON.stringify(e));
    const ran = ids.map((id) => workerOf(id).at(-1));
    assert.deepEqual(new Set(ran), new Set(['wa', 'wb']), `workers: ${ran.join(', ')}`);
    for (const e of ends) {
      // Read through the store: a container's archive is kept as its parts.
      const bytes = await stored(e.artifact!.key);
      assert.equal(e.artifact!.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(e.artifact!.key, `${e.id}/web1-lxc.tar.zst`);
    }
    const q1 = updates.filter((u) => u.id === 'q1');
    assert.deepEqual(q1.filter((u) => u.state).map((u) => u.state), ['queued', 'running', 'succeeded']);
    assert.ok(q1.some((u) => u.step === 'stop and archive'), 'steps come through the queue');
    assert.ok(q1.some((u) => u.log?.some((l) => /packages layer packages-[0-9a-f]+: cached/.test(l))), 'log lines come through the queue');
  });

  it('cancels a build that waits in the queue and one that runs on a worker', async () => {
    // Both workers busy with the first two, so the third waits.
    for (const id of ['c1', 'c2', 'c3']) await ex.submit({ id, owner: 'bob', config: withHostname(`cancel-${id}`), target: 'oci' });
    await next((u) => u.id === 'c1' && u.step === 'stop and archive');
    await next((u) => u.id === 'c2' && u.state === 'running');
    await ex.cancel('c3');
    await ex.cancel('c1');
    const [c1, c2, c3] = await Promise.all(['c1', 'c2', 'c3'].map(end));
    assert.equal(c3!.state, 'canceled');
    assert.deepEqual(updates.filter((u) => u.id === 'c3' && u.state).map((u) => u.state), ['queued', 'canceled'], 'c3 never ran');
    assert.equal(c1!.state, 'canceled', JSON.stringify(c1));
    assert.equal(c2!.state, 'succeeded');
    assert.equal(existsSync(join(artifacts, 'c1')), false);
  });

  it('vmgen serve --queue hands builds to the workers: state, worker, log and the archive through the API', async () => {
    const data = join(dir, 'serve');
    const token = lastLine((await vmgen(['token', 'create', 'dora', '--data', data])).stdout);
    const serve = await startProcess(process.execPath, [
      join(ROOT, 'bin', 'vmgen.js'), 'serve', '--port', '0', '--data', data, '--queue', queue, '--artifacts', artifacts,
    ], /listening on http:\/\/\S+/);
    try {
      const url = /listening on (http:\/\/\S+)/.exec(serve.output())![1]!;
      const call = (path: string, init: RequestInit = {}): Promise<Response> =>
        fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });
      const sub = await call('/api/builds', { method: 'POST', body: JSON.stringify({ config: withHostname('via-serve'), target: 'lxc' }) });
      assert.equal(sub.status, 202);
      const { id } = (await sub.json()) as { id: string };
      let b: { state: string; worker?: string; error?: string } = { state: 'queued' };
      for (const deadline = Date.now() + 120_000; !isFinalState(b.state) && Date.now() < deadline;) {
        await new Promise((r) => setTimeout(r, 300));
        b = (await (await call(`/api/builds/${id}`)).json()) as typeof b;
      }
      assert.equal(b.state, 'succeeded', JSON.stringify(b));
      assert.ok(b.worker && workers.has(b.worker), `worker ${b.worker}`);
      assert.match(await (await call(`/api/builds/${id}/log`)).text(), /packages layer packages-[0-9a-f]+: cached/);
      const art = await call(`/api/builds/${id}/artifact`);
      assert.equal(art.status, 200);
      const bytes = Buffer.from(await art.arrayBuffer());
      assert.equal(art.headers.get('x-checksum-sha256'), createHash('sha256').update(bytes).digest('hex'));
    } finally {
      serve.proc.kill('SIGTERM');
    }
  });

  it('kill -9 of a worker mid-build: its build process ends, and the build is finished by the other worker', async () => {
    await ex.submit({ id: 'k1', owner: 'carol', config: withHostname('killed'), target: 'oci' });
    const running = await next((u) => u.id === 'k1' && u.state === 'running');
    await next((u) => u.id === 'k1' && u.step === 'stop and archive');
    const victim = running.worker!;
    const survivor = victim === 'wa' ? 'wb' : 'wa';
    const proc = workers.get(victim)!.proc;
    const buildProcs = childrenOf(proc.pid!);
    assert.equal(buildProcs.length, 1, `the worker runs one build process: ${buildProcs.join(', ')}`);
    proc.kill('SIGKILL');
    workers.delete(victim);
    const e = await end('k1');
    assert.equal(e.state, 'succeeded', JSON.stringify(e));
    assert.deepEqual(workerOf('k1'), [victim, survivor]);
    assert.ok(updates.some((u) => u.id === 'k1' && u.state === 'queued' && u.log?.some((l) => /stopped answering/.test(l))), 'the stall is reported');
    assert.ok(!isAlive(buildProcs[0]!), 'the killed worker\'s build process ended with it');
    const bytes = await stored(e.artifact!.key);
    assert.equal(e.artifact!.sha256, createHash('sha256').update(bytes).digest('hex'));
  });
});
