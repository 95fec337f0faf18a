import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LabView } from '../../src/service/web/shared-types.js';
import { IS_ROOT, lastLine, ROOT, vmgen } from './helpers.js';
import { freePort } from '../helpers/net.js';

/**
 * A lab through the service on BullMQ: redis on a free loopback port, two `vmgen worker`s (the
 * built CLI) sharing an artifact directory, `vmgen serve --queue`, and three machines of
 * examples/net101 (gw, web and one student's machine, named pc: a count of 1 makes no numbered copies) for lxc. Each machine is its own job; both
 * workers take some; the assembly job puts the lab's archive together from the stored members.
 */
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const skip = !IS_ROOT ? 'needs root (real builds)' : !hasRedis ? 'needs redis-server (scripts/setup.sh installs it)' : false;
const NET101 = join(ROOT, 'examples', 'net101');
const LAB = readFileSync(join(NET101, 'lab.conf'), 'utf8').replace(/^(\s*count\s*=\s*)6\s*$/m, (_all, key: string) => `${key}1`);
const FILES = Object.fromEntries(['gw.conf', 'web.conf', 'pc.conf', 'students.csv'].map((f) => [f, readFileSync(join(NET101, f)).toString('base64')]));

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

describe('a lab over the API, built by two workers', { skip, timeout: 1_800_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-lab-service-'));
  const artifacts = join(dir, 'artifacts');
  const procs: Array<{ name: string; proc: ChildProcess; output: () => string }> = [];

  before(async () => {
    const port = await freePort();
    const queue = `redis://127.0.0.1:${port}`;
    const redis = await startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept connections/);
    procs.push({ name: 'redis', ...redis });
    for (const name of ['wa', 'wb']) {
      const w = await startProcess(process.execPath, [
        join(ROOT, 'bin', 'vmgen.js'), 'worker', '--queue', queue, '--data', join(dir, name), '--artifacts', artifacts, '--concurrency', '1', '--name', name,
      ], new RegExp(`^worker ${name} taking builds from`, 'm'));
      procs.push({ name, ...w });
    }
    const data = join(dir, 'serve');
    token = lastLine((await vmgen(['token', 'create', 'teacher', '--data', data])).stdout);
    const serve = await startProcess(process.execPath, [
      join(ROOT, 'bin', 'vmgen.js'), 'serve', '--port', '0', '--data', data, '--queue', queue, '--artifacts', artifacts,
    ], /listening on http:\/\/\S+/);
    procs.push({ name: 'serve', ...serve });
    url = /listening on (http:\/\/\S+)/.exec(serve.output())![1]!;
  });
  let token = '';
  let url = '';

  after(async () => {
    for (const p of procs.reverse()) p.proc.kill(p.name === 'serve' ? 'SIGTERM' : 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });
  const outputs = (): string => procs.map((p) => `--- ${p.name}\n${p.output().slice(-3000)}`).join('\n');

  it('each machine is a job, both workers build some, and the lab\'s archive is assembled and served', async () => {
    const sub = await call('/api/labs', { method: 'POST', body: JSON.stringify({ lab: LAB, target: 'lxc', files: FILES }) });
    assert.equal(sub.status, 202, await sub.clone().text());
    const { id } = (await sub.json()) as LabView;
    let lab: LabView | undefined;
    for (const deadline = Date.now() + 1_500_000; (!lab || !lab.final) && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 1000));
      lab = (await (await call(`/api/labs/${id}`)).json()) as LabView;
    }
    assert.equal(lab?.state, 'done', `${JSON.stringify(lab, null, 1)}\n${outputs()}`);
    assert.deepEqual(lab.machines.map((m) => m.name), ['gw', 'web', 'pc']);
    assert.ok(lab.machines.every((m) => m.state === 'succeeded'), JSON.stringify(lab.machines));
    const ran = new Set(lab.machines.map((m) => m.worker));
    assert.deepEqual(ran, new Set(['wa', 'wb']), `both workers build machines: ${[...ran].join(', ')}`);
    assert.equal(lab.assembly?.state, 'succeeded');
    assert.ok(lab.assembly.worker === 'wa' || lab.assembly.worker === 'wb', `a worker assembles: ${lab.assembly.worker}`);
    const art = await call(`/api/labs/${id}/archive`);
    assert.equal(art.status, 200);
    const bytes = Buffer.from(await art.arrayBuffer());
    assert.equal(art.headers.get('x-checksum-sha256'), createHash('sha256').update(bytes).digest('hex'));
    assert.equal(lab.archive?.bytes, bytes.length);
    // The archive is the lab's: its manifest names every machine.
    const file = join(dir, lab.archive.name);
    await import('node:fs/promises').then((fs) => fs.writeFile(file, bytes));
    const listed = spawnSync('tar', ['--zstd', '-tf', file], { encoding: 'utf8', maxBuffer: 2 ** 28 });
    const entry = listed.stdout.split('\n').find((l) => /(^|\/)lab\.json$/.test(l));
    assert.ok(entry, `the archive holds lab.json: ${listed.stdout.slice(0, 500)}`);
    const manifest = spawnSync('tar', ['--zstd', '-xOf', file, entry], { encoding: 'utf8', maxBuffer: 2 ** 26 });
    assert.equal(manifest.status, 0, manifest.stderr);
    const m = JSON.parse(manifest.stdout) as { machines: Array<{ name: string }> };
    assert.deepEqual(m.machines.map((x) => x.name), ['gw', 'web', 'pc']);
  });
});
