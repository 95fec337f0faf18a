import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/exec/run.js';
import { isFinalState } from '../../src/service/types.js';
import { IS_ROOT, ROOT, lastLine, listTree, mountsUnder, vmgen } from './helpers.js';

/*
 * The service as users get it: a real `vmgen serve` process (the built CLI), tokens made with
 * `vmgen token create`, real container builds from the warm cache, run by the real executor in
 * build processes. Then a `kill -9` of the server in the middle of builds, and a restart.
 */
const skip = IS_ROOT ? false : 'needs root (builds mount and chroot)';
const CONFIG = readFileSync(join(ROOT, 'examples', 'debian-web.conf'), 'utf8');
const BIN = join(ROOT, 'bin', 'vmgen.js');
const RUN_ID = process.pid.toString(36);

interface Server {
  proc: ChildProcess;
  url: string;
  log(): string;
}

/** Starts `vmgen serve --port 0` and waits for the line that says where it listens. */
async function serve(data: string, extra: string[] = []): Promise<Server> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', data, '--concurrency', '2', ...extra], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VMGEN_LOG_LEVEL: 'warn' },
  });
  let stdout = '';
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-20_000)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vmgen serve did not say where it listens:\n${stdout}\n${stderr}`)), 60_000);
    proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const m = /^listening on (http:\/\/\S+)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vmgen serve exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
  return { proc, url, log: () => stderr };
}

async function stop(s: Server | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (!s || s.proc.exitCode !== null || s.proc.signalCode !== null) return s?.proc.exitCode ?? null;
  const exited = new Promise<number | null>((ok) => s.proc.once('exit', (code) => ok(code)));
  s.proc.kill(signal);
  return exited;
}

async function token(data: string, name: string, admin = false): Promise<string> {
  const r = await vmgen(['token', 'create', name, '--data', data, ...(admin ? ['--admin'] : [])]);
  assert.equal(r.code, 0, r.stderr);
  return lastLine(r.stdout);
}

function machine(name: string, hostname: string): string {
  return CONFIG.replace(/^(\s*vm_id = ).*$/m, `$1${name}`).replace(/^(\s*hostname = ).*$/m, `$1${hostname}`);
}

async function api(url: string, tok: string | undefined, path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
}

async function submit(url: string, tok: string, config: string, target = 'lxc'): Promise<string> {
  const r = await api(url, tok, '/api/builds', { method: 'POST', body: { config, target } });
  assert.equal(r.status, 202, await r.clone().text());
  return (await r.json()).id;
}

interface Build {
  id: string;
  state: string;
  step: string | null;
  name: string;
  error?: string;
  errorCode?: string;
  worker?: string;
  owner?: string;
  artifact?: { name: string; bytes: number; sha256: string };
}

async function builds(url: string, adminToken: string): Promise<Build[]> {
  return (await api(url, adminToken, '/api/builds?all=1&limit=1000')).json();
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

/** Downloads an artifact to a file, hashing it as it comes; returns the hash and the response's headers. */
async function download(url: string, tok: string, id: string, file: string): Promise<{ sha256: string; headers: Headers }> {
  const r = await api(url, tok, `/api/builds/${id}/artifact`);
  assert.equal(r.status, 200, `artifact of ${id}: ${r.status}`);
  const hash = createHash('sha256');
  const body = Readable.fromWeb(r.body as unknown as WebReadableStream<Uint8Array>);
  body.on('data', (c: Buffer) => hash.update(c));
  await pipeline(body, createWriteStream(file));
  return { sha256: hash.digest('hex'), headers: r.headers };
}

/** Pids of the processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(p));
    } catch {
      continue;
    }
  }
  return out;
}

/** Whether a pid still runs the program it ran when we looked (not a reused pid). */
function stillRuns(pid: number, cmdline: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === cmdline;
  } catch {
    return false;
  }
}

describe('vmgen serve with real builds', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'vmgen-svc-it-'));
  const data = join(work, 'data');
  let server: Server | undefined;
  const tokens: Record<string, string> = {};

  before(async () => {
    // The served CLI is the built one, as installed (scripts/test.sh builds first).
    assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'commands', 'serve.js')), 'no dist/cli/commands/serve.js: run npm run build');
    for (const user of ['alice', 'bob', 'carol']) tokens[user] = await token(data, user);
    tokens.root = await token(data, 'root', true);
    server = await serve(data);
  });
  after(async () => {
    await stop(server);
    rmSync(work, { recursive: true, force: true });
  });

  it('20 submissions from 3 users, 2 at a time, all succeed with the right archives', { timeout: 900_000 }, async () => {
    const url = server!.url;
    const users = ['alice', 'bob', 'carol'];
    const jobs = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const user = users[i % 3]!;
      const name = `svc${RUN_ID}n${i}`;
      const id = await submit(url, tokens[user]!, machine(name, `host${i}`));
      return { i, user, name, hostname: `host${i}`, id };
    }));
    assert.equal(new Set(jobs.map((j) => j.id)).size, 20);

    let maxRunning = 0;
    let maxBuilding = 0;
    const final = await until('all 20 builds to end', async () => {
      const all = (await builds(url, tokens.root!)).filter((b) => jobs.some((j) => j.id === b.id));
      const running = all.filter((b) => b.state === 'running');
      maxRunning = Math.max(maxRunning, running.length);
      maxBuilding = Math.max(maxBuilding, running.filter((b) => b.step !== 'store the archive').length);
      return all.length === 20 && all.every((b) => isFinalState(b.state)) ? all : undefined;
    }, 840_000);
    const failed = final.filter((b) => b.state !== 'succeeded');
    assert.deepEqual(failed.map((b) => `${b.id}: ${b.state} ${b.error}`), [], server!.log());
    // A build whose process has exited gives its slot back while its archive is stored.
    assert.ok(maxBuilding <= 2, `at most 2 builds built at once (saw ${maxBuilding})`);
    assert.ok(maxRunning <= 4, `and at most 2 more stored their archive meanwhile (saw ${maxRunning} running)`);
    assert.ok(maxBuilding === 2, 'both slots were used');

    // Each user sees only their own builds.
    for (const user of users) {
      const mine: Build[] = await (await api(url, tokens[user]!, '/api/builds?limit=1000')).json();
      assert.deepEqual(mine.map((b) => b.id).sort(), jobs.filter((j) => j.user === user).map((j) => j.id).sort());
    }

    // Every archive: the owner downloads it, its SHA-256 is the one announced, it is that machine.
    const dl = join(work, 'dl');
    mkdirSync(dl, { recursive: true });
    const queue = [...jobs];
    await Promise.all([0, 1].map(async () => {
      for (let j = queue.shift(); j; j = queue.shift()) {
        const b = final.find((x) => x.id === j.id)!;
        assert.equal(b.owner, j.user);
        assert.equal(b.artifact?.name, `${j.name}-lxc.tar.zst`);
        const file = join(dl, b.artifact!.name);
        const got = await download(url, tokens[j.user]!, j.id, file);
        assert.equal(got.sha256, b.artifact!.sha256, `sha256 of ${j.name}`);
        assert.equal(got.headers.get('x-checksum-sha256'), b.artifact!.sha256);
        assert.equal(Number(got.headers.get('content-length')), b.artifact!.bytes);
        const hostname = await run(['tar', '-xOf', file, 'rootfs/etc/hostname']);
        assert.equal(hostname.stdout.trim(), j.hostname, `/etc/hostname in ${j.name}`);
        rmSync(file);
      }
    }));

    // Someone else's build is not found; no token is 401; a bad config is 422 at its line.
    const alices = jobs.find((j) => j.user === 'alice')!;
    for (const path of ['', '/artifact', '/log']) {
      assert.equal((await api(url, tokens.bob, `/api/builds/${alices.id}${path}`)).status, 404);
      assert.equal((await api(url, undefined, `/api/builds/${alices.id}${path}`)).status, 401);
    }
    assert.equal((await api(url, tokens.root, `/api/builds/${alices.id}/artifact`)).status, 200);
    const bad = CONFIG.replace('num_cpu = 2', 'num_cpu = many');
    const badLine = bad.split('\n').findIndex((l) => l.includes('num_cpu = many')) + 1;
    const r = await api(url, tokens.carol, '/api/builds', { method: 'POST', body: { config: bad, target: 'lxc' } });
    assert.equal(r.status, 422);
    const body = await r.json();
    assert.ok(body.diagnostics.some((d: { line: number; severity: string }) => d.line === badLine && d.severity === 'error'), JSON.stringify(body));

    // A build's log names the host's directories only by placeholder.
    const log = await (await api(url, tokens.alice, `/api/builds/${alices.id}/log`)).text();
    assert.ok(log.length > 0 && !log.includes(work), `the log shows no host path under ${work}`);
    for (const p of [data, join(data, 'artifacts'), join(data, 'work')]) {
      assert.equal(statSync(p).mode & 0o777, 0o700, `${p} is private`);
    }

    // Deleting a build deletes its archive (and keeps this test's disk use down).
    for (const j of jobs) assert.equal((await api(url, tokens[j.user]!, `/api/builds/${j.id}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(listTree(join(data, 'artifacts')).filter((p) => !p.startsWith('.incoming')), []);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^vmgen_build_duration_seconds_count\{state="succeeded"\} 20$/m);
  });

  it('kill -9 of the server mid-build: its build processes end, nothing stays running, nothing partial is served, and it builds again after a restart', { timeout: 600_000 }, async () => {
    const url = server!.url;
    const names = [0, 1, 2].map((i) => `kill${RUN_ID}n${i}`);
    const ids: string[] = [];
    for (const [i, name] of names.entries()) ids.push(await submit(url, tokens.alice!, machine(name, `kill${i}`)));
    // Two run (concurrency 2), the third waits. Kill when both are past mounting their guest.
    await until('two builds in the middle', async () => {
      const all = (await builds(url, tokens.root!)).filter((b) => ids.includes(b.id));
      const mid = all.filter((b) => b.state === 'running' && b.step !== null && /^(configure|stop and archive)/.test(b.step));
      return mid.length === 2 ? mid : undefined;
    }, 300_000);
    const serverPid = server!.proc.pid!;
    const children = childrenOf(serverPid).map((pid) => ({ pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8') }));
    const buildProcs = children.filter((c) => c.cmdline.includes('child'));
    assert.equal(buildProcs.length, 2, `two build processes: ${children.map((c) => c.cmdline.replace(/\0/g, ' ')).join('\n')}`);

    assert.equal(await stop(server, 'SIGKILL'), null);
    server = undefined;
    // Orphaned, each build process notices, cancels its build (cleanups: unmount, remove) and exits.
    await until('the build processes to end', async () => (buildProcs.every((c) => !stillRuns(c.pid, c.cmdline)) ? true : undefined), 120_000);
    const cacheWork = join(process.env.VMGEN_CACHE_DIR ?? '/var/cache/vmgen', 'work');
    for (const name of names) assert.deepEqual(mountsUnder(cacheWork).filter((m) => m.includes(name)), [], `mounts of ${name} are gone`);

    server = await serve(data);
    const url2 = server.url;
    const after = await Promise.all(ids.map(async (id) => (await api(url2, tokens.alice, `/api/builds/${id}`)).json() as Promise<Build>));
    const interrupted = after.filter((b) => b.state === 'failed');
    assert.equal(interrupted.length, 2, JSON.stringify(after));
    for (const b of interrupted) {
      assert.equal(b.errorCode, 'VMG_INTERRUPTED');
      assert.equal(b.error, 'the server stopped during the build');
      assert.equal((await api(url2, tokens.alice, `/api/builds/${b.id}/artifact`)).status, 404);
    }
    // The one that was waiting is queued again and builds.
    const waiting = after.find((b) => b.state !== 'failed')!;
    assert.ok(['queued', 'running'].includes(waiting.state), JSON.stringify(waiting));
    const done = await until('the re-queued build', async () => {
      const b: Build = await (await api(url2, tokens.alice, `/api/builds/${waiting.id}`)).json();
      return isFinalState(b.state) ? b : undefined;
    }, 300_000);
    assert.equal(done.state, 'succeeded', done.error);
    assert.ok(!(await builds(url2, tokens.root!)).some((b) => b.state === 'running'), 'no build is left running');

    // Submitted again, with the CLI: it builds, downloads, and the archive checks out.
    const conf = join(work, 'again.conf');
    writeFileSync(conf, machine(names[0]!, 'kill0'));
    const cli = await vmgen(['submit', conf, '--target', 'lxc', '--server', url2, '--wait', '--download', join(work, 'again')], { env: { VMGEN_TOKEN: tokens.alice } });
    assert.equal(cli.code, 0, cli.stderr);
    const archive = lastLine(cli.stdout);
    assert.equal(archive, join(work, 'again', `${names[0]}-lxc.tar.zst`));
    assert.equal((await run(['tar', '-xOf', archive, 'rootfs/etc/hostname'])).stdout.trim(), 'kill0');

    // What the store holds is exactly the artifacts of the builds that succeeded: no partial files.
    // A container's archive is kept as its parts (the layer's, linked from the cache, then the build's own).
    const rows = (await builds(url2, tokens.root!)).filter((b) => b.artifact);
    const stored = join(data, 'artifacts');
    const expected = rows.flatMap((b) => [b.id, `${b.id}/${b.artifact!.name}`, `${b.id}/${b.artifact!.name}/0`, `${b.id}/${b.artifact!.name}/1`]).sort();
    assert.deepEqual(listTree(stored).filter((p) => p !== '.incoming').sort(), expected);
    assert.ok(rows.every((b) => statSync(join(stored, b.id, b.artifact!.name, '0')).nlink >= 2), 'the layer part is a link to the cache\'s file, not a copy');
    // Nor temp output of the killed server's builds.
    assert.deepEqual(listTree(join(data, 'work')).filter((p) => !p.startsWith(`${hostname()}-${server!.proc.pid}`)), []);
  });

  it('DELETE of a running build cancels it: its cleanups run, it ends as canceled, no archive', { timeout: 300_000 }, async () => {
    const url = server!.url;
    const name = `cancel${RUN_ID}`;
    const id = await submit(url, tokens.bob!, machine(name, 'cancel0'));
    await until('the build to be configuring', async () => {
      const b: Build = await (await api(url, tokens.bob, `/api/builds/${id}`)).json();
      assert.ok(['queued', 'running'].includes(b.state), JSON.stringify(b));
      return b.step !== null && /^(configure|stop and archive)/.test(b.step) ? b : undefined;
    }, 240_000);
    const r = await api(url, tokens.bob, `/api/builds/${id}`, { method: 'DELETE' });
    assert.equal(r.status, 200);
    const b: Build = await r.json();
    assert.equal(b.state, 'canceled');
    assert.equal((await api(url, tokens.bob, `/api/builds/${id}/artifact`)).status, 404);
    const cacheWork = join(process.env.VMGEN_CACHE_DIR ?? '/var/cache/vmgen', 'work');
    assert.deepEqual(mountsUnder(cacheWork).filter((m) => m.includes(name)), []);
    assert.equal(existsSync(join(data, 'artifacts', id)), false);
    // A build that ended is deleted by a second DELETE.
    assert.equal((await api(url, tokens.bob, `/api/builds/${id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await api(url, tokens.bob, `/api/builds/${id}`)).status, 404);
  });

  it('SIGTERM stops the server cleanly', { timeout: 60_000 }, async () => {
    const code = await stop(server);
    server = undefined;
    assert.equal(code, 0);
  });
});
