import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { unmountUnder } from '../../src/exec/mounts.js';
import { run } from '../../src/exec/run.js';
import { createArtifactStore } from '../../src/service/artifacts/index.js';
import { createExecutor } from '../../src/service/executors/index.js';
import { isFinalState, type BuildUpdate, type Executor } from '../../src/service/types.js';
import { IS_ROOT, ROOT } from '../integration/helpers.js';

/**
 * The local executor with the real runner: each build in its own process, on the default cache
 * (warm for examples/debian-web.conf), its archive moved into a directory store.
 */
const skip = IS_ROOT ? false : 'needs root (real builds: overlay mounts, chroot)';
const CONFIG = readFileSync(join(ROOT, 'examples', 'debian-web.conf'), 'utf8');
const withHostname = (name: string, text = CONFIG): string => text.replace(/^(\s*hostname\s*=\s*).*$/m, `$1${name}`);

/** An executor whose updates the test can wait on, per build. */
class Harness {
  readonly updates: BuildUpdate[] = [];
  private waiters: Array<{ test: (u: BuildUpdate) => boolean; resolve: (u: BuildUpdate) => void }> = [];

  constructor(readonly ex: Executor) {}

  async start(): Promise<this> {
    await this.ex.start((u) => {
      this.updates.push(u);
      this.waiters = this.waiters.filter((w) => (w.test(u) ? (w.resolve(u), false) : true));
    });
    return this;
  }

  next(test: (u: BuildUpdate) => boolean, ms = 240_000): Promise<BuildUpdate> {
    const seen = this.updates.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; updates so far:\n${this.updates.map((u) => JSON.stringify(u).slice(0, 200)).join('\n')}`)), ms);
      this.waiters.push({ test, resolve: (u) => (clearTimeout(timer), resolve(u)) });
    });
  }

  end(id: string): Promise<BuildUpdate> {
    return this.next((u) => u.id === id && isFinalState(u.state ?? ''));
  }

  log(id: string): string {
    return this.updates.filter((u) => u.id === id).flatMap((u) => u.log ?? []).join('\n');
  }
}

describe('local executor with the process runner', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-exec-'));
  const store = join(dir, 'store');
  const workDir = join(dir, 'work');
  const executors: Executor[] = [];
  after(async () => {
    await Promise.all(executors.map((e) => e.close()));
    await unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  const harness = async (concurrency: number, cacheRoot?: string): Promise<Harness> => {
    const ex = createExecutor({ concurrency, artifacts: createArtifactStore({ dir: store }), workDir, ...(cacheRoot ? { cacheRoot } : {}) });
    executors.push(ex);
    return new Harness(ex).start();
  };

  it('builds in a child process, reports steps, progress and log lines, and stores the archive', async () => {
    const h = await harness(2);
    await h.ex.submit({ id: 'ok1', owner: 'alice', config: withHostname('exec-ok'), target: 'lxc' });
    const end = await h.end('ok1');
    assert.equal(end.state, 'succeeded', JSON.stringify(end) + h.log('ok1'));
    const mine = h.updates.filter((u) => u.id === 'ok1');
    assert.deepEqual(mine.filter((u) => u.state).map((u) => u.state), ['queued', 'running', 'succeeded']);
    assert.equal(mine.find((u) => u.state === 'running')!.worker, hostname());
    const steps = mine.flatMap((u) => (u.step ? [u.step] : []));
    assert.ok(steps.includes('configure: system, groups, users, network, firewall, services at boot') && steps.at(-1) === 'store the archive', steps.join(' | '));
    const progress = mine.flatMap((u) => (u.progress === undefined ? [] : [u.progress]));
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'progress never goes back');
    assert.ok(progress.at(-1) === 1 && progress.filter((p) => p > 0 && p < 1).length >= 3, progress.join(' '));
    assert.match(h.log('ok1'), /packages layer packages-[0-9a-f]+: cached/);
    const a = end.artifact!;
    assert.equal(a.key, 'ok1/web1-lxc.tar.zst');
    // Kept as its two parts: the cached layer's (a link to the cache's file: no copy) and the build's own.
    assert.deepEqual(readdirSync(join(store, a.key)).sort(), ['0', '1']);
    assert.ok(statSync(join(store, a.key, '0')).nlink >= 2, 'the layer part is linked from the cache');
    assert.match(h.log('ok1'), /the layer's part \((cached|packed by this build), kept apart\)/);
    const bytes = Buffer.concat([readFileSync(join(store, a.key, '0')), readFileSync(join(store, a.key, '1'))]);
    assert.equal(a.bytes, bytes.length);
    assert.equal(a.sha256, createHash('sha256').update(bytes).digest('hex'));
    const archive = join(dir, 'ok1.tar.zst');
    writeFileSync(archive, bytes);
    assert.equal((await run(['tar', '-xOf', archive, 'rootfs/etc/hostname'])).stdout.trim(), 'exec-ok', 'the parts joined are the archive');
    assert.deepEqual(readdirSync(join(workDir, `${hostname()}-${process.pid}`)), [], 'no temp output left');
  });

  it('a config that does not validate at build time fails with its line; an unknown target fails too', async () => {
    const h = await harness(2);
    await h.ex.submit({ id: 'bad1', owner: 'alice', config: '[hardware]\n    vm_id = x\n    num_cpu = lots\n', target: 'lxc' });
    await h.ex.submit({ id: 'bad2', owner: 'alice', config: CONFIG, target: 'nope' });
    const bad1 = await h.end('bad1');
    assert.deepEqual([bad1.state, bad1.errorCode], ['failed', 'VMG_CONFIG_INVALID']);
    assert.match(bad1.error!, /config:3:\d+: error: .*num_cpu/);
    const bad2 = await h.end('bad2');
    assert.deepEqual([bad2.state, bad2.errorCode], ['failed', 'VMG_USAGE']);
    assert.equal(existsSync(join(store, 'bad1')), false);
  });

  it('cancels a running build: the child undoes its steps, nothing is stored or left in the work dir', async () => {
    const h = await harness(1);
    await h.ex.submit({ id: 'cx1', owner: 'alice', config: withHostname('exec-cancel'), target: 'oci' });
    await h.next((u) => u.id === 'cx1' && u.step === 'stop and archive');
    await h.ex.cancel('cx1');
    const end = await h.end('cx1');
    assert.equal(end.state, 'canceled', JSON.stringify(end));
    assert.equal(existsSync(join(store, 'cx1')), false);
    assert.deepEqual(readdirSync(join(workDir, `${hostname()}-${process.pid}`)), []);
  });

  it('a kill -9 of the process that owns the executor ends its build process too; the next start removes its temp output', async () => {
    // The owner is a separate node process, so the test can kill it as an operator would.
    const script = join(dir, 'owner.mts');
    writeFileSync(script, [
      `import { createExecutor } from ${JSON.stringify(join(ROOT, 'src/service/executors/index.ts'))};`,
      `import { createArtifactStore } from ${JSON.stringify(join(ROOT, 'src/service/artifacts/index.ts'))};`,
      `const ex = createExecutor({ concurrency: 1, artifacts: createArtifactStore({ dir: ${JSON.stringify(store)} }), workDir: ${JSON.stringify(workDir)} });`,
      'await ex.start((u) => { if (u.step) console.log(`step ${u.step}`); });',
      `await ex.submit({ id: 'orphan1', owner: 'a', config: ${JSON.stringify(withHostname('exec-orphan'))}, target: 'oci' });`,
    ].join('\n'));
    const owner = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const ownerDir = join(workDir, `${hostname()}-${owner.pid}`);
    let out = '';
    await new Promise<void>((resolve, reject) => {
      owner.stdout.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        if (out.includes('step stop and archive')) resolve();
      });
      owner.on('exit', () => reject(new Error(`the owner exited early:\n${out}`)));
    });
    const children = childrenOf(owner.pid!);
    assert.equal(children.length, 1, `one build process under the owner: ${children.join(', ')}`);
    assert.equal(existsSync(ownerDir), true, `${ownerDir} exists`);
    owner.kill('SIGKILL');
    const gone = await waitFor(() => !isAlive(children[0]!), 30_000);
    assert.ok(gone, 'the build process ended after its owner was killed');
    assert.equal(existsSync(join(store, 'orphan1')), false, 'nothing stored');
    // A new executor on the same work dir clears what the dead one left.
    await harness(1);
    assert.equal(existsSync(ownerDir), false);
  });

  it('two builds that need the same missing layer: one makes it, the other waits for it, then both finish', async () => {
    // A fresh cache (its .deb pool hard-linked from the default one, so nothing is downloaded) and
    // fewer applications make a layer that must be made now; the second build must not make it too.
    const cache = join(dir, 'cache');
    const pool = join(process.env.VMGEN_CACHE_DIR ?? '/var/cache/vmgen', 'debs');
    mkdirSync(join(cache, 'debs'), { recursive: true });
    if (existsSync(pool)) await run(['cp', '-al', `${pool}/.`, join(cache, 'debs')]);
    const small = CONFIG.replace(/\[devel\][\s\S]*?(?=\n\[)/, '[devel]\n    vim = 1\n');
    assert.notEqual(small, CONFIG);
    const h = await harness(2, cache);
    await h.ex.submit({ id: 'same1', owner: 'alice', config: withHostname('same-one', small), target: 'lxc' });
    await h.ex.submit({ id: 'same2', owner: 'bob', config: withHostname('same-two', small), target: 'lxc' });
    const [one, two] = await Promise.all([h.end('same1'), h.end('same2')]);
    assert.equal(one.state, 'succeeded', h.log('same1'));
    assert.equal(two.state, 'succeeded', h.log('same2'));
    const logs = [h.log('same1'), h.log('same2')];
    const maker = logs.filter((l) => /packages layer packages-[0-9a-f]+: made in one pass/.test(l));
    const waiter = logs.filter((l) => /waiting for another build to make layer packages-/.test(l) && /packages layer packages-[0-9a-f]+: made by another build/.test(l));
    assert.equal(maker.length, 1, 'exactly one build made the layer');
    assert.equal(waiter.length, 1, 'the other waited for it and used it');
    const entries = readdirSync(join(cache, 'layers')).filter((n) => !n.startsWith('.'));
    assert.equal(entries.filter((n) => n.startsWith('packages-')).length, 1, `one layer in the cache: ${entries.join(' ')}`);
    assert.equal(entries.filter((n) => n.startsWith('tar-')).length, 1, `and one packed part of it, which both archives start with: ${entries.join(' ')}`);
    assert.equal(entries.length, 2, entries.join(' '));
  });
});

function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      // Field 4 of /proc/PID/stat is the parent; the command name before it may hold spaces.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('child.ts')) found.push(Number(p));
    } catch {
      continue;
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    // A zombie has exited; only its entry is left for the reaper.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitFor(test: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (test()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return test();
}
