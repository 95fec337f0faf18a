import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { run } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';

/*
 * What contrib/systemd/vmgen-serve-queue.service rests on: `vmgen serve --queue` works with no
 * capability at all (CapabilityBoundingSet= empty, NoNewPrivileges), on a data directory whose
 * token table an admin wrote and whose artifact store a worker left 0600 under the same uid.
 * setpriv empties the bounding set as systemd would; a real redis-server is the queue.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Resolves with the first stdout line matching `re`; rejects if the process ends first. */
function lineOf(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((ok, fail) => {
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = re.exec(seen);
      if (m) ok(m[0]);
    });
    child.once('exit', (code) => fail(new Error(`${String(child.spawnargs[0])} exited with ${code} before printing ${re}: ${seen}`)));
  });
}

describe('vmgen serve --queue without capabilities (vmgen-serve-queue.service)', () => {
  let redis: ChildProcess | undefined;
  let serve: ChildProcess | undefined;
  let dir = '';
  let token = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmgen-nocaps-'));
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await lineOf(redis, /Ready to accept connections/);
    // What an admin and a worker leave: the token table, and an archive only its owner may read.
    const data = join(dir, 'data');
    const created = await run('vmgen', ['token', 'create', 'alice', '--data', data]);
    assert.equal(created.code, 0, created.stderr);
    token = created.stdout.trim().split('\n').at(-1)!;
    mkdirSync(join(data, 'artifacts'), { recursive: true });
    writeFileSync(join(data, 'artifacts', 'left-by-a-worker.tar'), 'x', { mode: 0o600 });
    chmodSync(data, 0o755);
    serve = spawn('setpriv', ['--bounding-set=-all', '--inh-caps=-all', '--no-new-privs', '--',
      process.execPath, '--import', 'tsx', join(ROOT, 'scripts', 'dev.ts'),
      'vmgen', 'serve', '--queue', `redis://127.0.0.1:${port}`, '--data', data, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  });

  after(() => {
    serve?.kill('SIGKILL');
    redis?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, keeps its files private, and answers with the admin\'s token', async () => {
    const url = (await lineOf(serve!, /http:\/\/127\.0\.0\.1:\d+/));
    const status = readFileSync(`/proc/${serve!.pid}/status`, 'utf8');
    assert.match(status, /^CapEff:\s+0+$/m, 'the server holds no effective capability');
    assert.match(status, /^CapBnd:\s+0+$/m, 'nor any it could regain');
    assert.equal(statSync(join(dir, 'data')).mode & 0o777, 0o700, 'the data directory made private by its owner');
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const me = await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200, 'the token the admin made is accepted');
    assert.match(JSON.stringify(await me.json()), /alice/);
    assert.equal((await fetch(`${url}/api/me`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  });
});
