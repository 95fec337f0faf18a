import assert from 'node:assert/strict';
import { everyItem, show } from '../helpers/assert-values.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { loadConfig } from '../../src/validate/load.js';
import { REQUEST_FILE_LIMITS } from '../../src/service/request-files.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { planBuild } from '../../src/orchestrator/plan.js';
import { BUILDABLE_TARGET_IDS, findBuildable } from '../../src/targets/commanders.js';
import { findTarget } from '../../src/targets/registry.js';
import { assertNoStack, run } from '../helpers/cli.js';
import { fakeArchive, testService, testCatalogs, waitFor, WEB_CONF, type TestService } from './fakes.js';

const CONFIG = readFileSync(WEB_CONF, 'utf8');
let svc: TestService | undefined;
afterEach(async () => {
  await svc?.close();
  svc = undefined;
});

async function submit(s: TestService, user: 'alice' | 'bob' | 'root', body: unknown = { config: CONFIG, target: 'lxc' }) {
  return s.app.inject({ method: 'POST', url: '/api/builds', headers: s.auth(user), payload: body as object });
}

async function submitOk(s: TestService, user: 'alice' | 'bob' | 'root'): Promise<string> {
  const r = await submit(s, user);
  assert.equal(r.statusCode, 202, r.body);
  return r.json().id;
}

/** Every error leaves the API as {error: {code, message}} with no stack trace. */
function assertError(r: { statusCode: number; body: string; json(): unknown }, status: number, code: string): void {
  assert.equal(r.statusCode, status, r.body);
  const body = r.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assertNoStack(r.body);
  assert.doesNotMatch(r.body, /"stack"|at .*\.ts:\d+/);
}

describe('API: authentication', () => {
  it('every /api/ route needs a token; /healthz and /metrics do not', async () => {
    svc = await testService();
    for (const url of ['/api/builds', '/api/builds/AAAAAAAAAAAAAAAA', '/api/catalog', '/api/schema', '/api/targets', '/api/me', '/api/no-such-route', '/api/config/parse']) {
      const r = await svc.app.inject({ method: 'GET', url });
      assertError(r, 401, 'VMG_UNAUTHORIZED');
      assert.match(String(r.headers['www-authenticate']), /^Bearer/);
    }
    assertError(await svc.app.inject({ method: 'POST', url: '/api/builds', payload: { config: CONFIG, target: 'lxc' } }), 401, 'VMG_UNAUTHORIZED');
    assert.equal(svc.executor.submitted.length, 0);
    assert.equal((await svc.app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await svc.app.inject({ url: '/metrics' })).statusCode, 200);
  });

  it('a wrong, malformed or revoked token is refused', async () => {
    svc = await testService();
    const bad = ['Bearer nope', `Bearer ${svc.tokens.alice}x`, `Basic ${svc.tokens.alice}`, svc.tokens.alice];
    for (const authorization of bad) assertError(await svc.app.inject({ url: '/api/me', headers: { authorization } }), 401, 'VMG_UNAUTHORIZED');
    assert.deepEqual((await svc.app.inject({ url: '/api/me', headers: svc.auth('alice') })).json(), { name: 'alice', admin: false, maxQueued: 20, allowScripts: false, files: REQUEST_FILE_LIMITS });
    svc.db.revokeUser('alice');
    assertError(await svc.app.inject({ url: '/api/me', headers: svc.auth('alice') }), 401, 'VMG_UNAUTHORIZED');
  });
});

describe('API: submitting', () => {
  it('a valid config is queued: 202 {id}, the executor gets it with its owner', async () => {
    svc = await testService();
    const r = await submit(svc, 'alice');
    assert.equal(r.statusCode, 202, r.body);
    const { id } = r.json();
    assert.match(id, /^[A-Za-z0-9_-]{16}$/);
    assert.equal(r.headers.location, `/api/builds/${id}`);
    assert.deepEqual(svc.executor.submitted.map((s) => [s.id, s.owner, s.target, s.format, s.config]), [[id, 'alice', 'lxc', 'tar.zst', CONFIG]]);
    const b = (await svc.app.inject({ url: `/api/builds/${id}`, headers: svc.auth('alice') })).json();
    assert.equal(b.state, 'queued');
    assert.equal(b.name, 'web1');
    assert.equal(b.format, 'tar.zst');
    assert.equal(b.owner, undefined, 'only admins see owners');
    // Warnings do not stop a build; they come back with the id.
    assert.deepEqual(r.json().diagnostics.filter((d: { severity: string }) => d.severity !== 'warning'), []);
  });

  it('a build shows the step names its plan has, in order, from submit time on', async () => {
    svc = await testService();
    const id = await submitOk(svc, 'alice');
    const config = loadConfig(CONFIG, { catalogs: testCatalogs(), target: findTarget('lxc')! }).config!;
    const planned = planBuild(config, testCatalogs(), 'lxc', { defaultMirror: 'http://mirror.example/debian' }).steps.map((s) => s.name);
    assert.equal(planned[0], 'check host tools');
    const b = (await svc.app.inject({ url: `/api/builds/${id}`, headers: svc.auth('alice') })).json();
    assert.deepEqual(b.steps, planned);
    const listed = (await svc.app.inject({ url: '/api/builds', headers: svc.auth('alice') })).json();
    assert.deepEqual(listed[0].steps, planned);
  });

  it('an invalid config is 422 with the same diagnostics, line for line, as vmgen validate', async () => {
    svc = await testService();
    const bad = CONFIG.replace('ram = 1GB', 'ram = lots').replace('port = 22', 'port = 99999');
    const r = await submit(svc, 'alice', { config: bad, target: 'lxc' });
    assert.equal(r.statusCode, 422, r.body);
    const body = r.json();
    assert.equal(body.error.code, 'VMG_CONFIG_INVALID');
    const lines = bad.split('\n');
    const ramLine = lines.findIndex((l) => l.includes('ram = lots')) + 1;
    const portLine = lines.findIndex((l) => l.includes('port = 99999')) + 1;
    const errors = body.diagnostics.filter((d: { severity: string }) => d.severity === 'error');
    assert.deepEqual(errors.map((d: { line: number }) => d.line).sort((a: number, b: number) => a - b), [ramLine, portLine]);
    for (const d of body.diagnostics) {
      assert.deepEqual(Object.keys(d).filter((k) => !['line', 'column', 'severity', 'message', 'hint', 'code', 'path'].includes(k)), []);
    }
    assert.deepEqual(errors.map((d: { path?: string[] }) => d.path?.join('.')).sort(), ['hardware.ram', 'network.open_ports.ssh.port'], 'each names the key it is about');
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-422-'));
    try {
      writeFileSync(join(dir, 'bad.conf'), bad);
      const cli = await run('vmgen', ['validate', 'bad.conf', '--target', 'lxc'], dir);
      assert.equal(cli.code, 1);
      for (const d of errors) assert.ok(cli.stderr.includes(`bad.conf:${d.line}:${d.column}: error: ${d.message}`), `${cli.stderr}\nlacks ${d.message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(svc.executor.submitted.length, 0);
    assert.equal(svc.db.listBuilds().length, 0);
  });

  it('the limits of the target apply: a config fine for one target can be 422 for another', async () => {
    svc = await testService();
    // The seed's Windows XP sample: VMware can describe it, a container target cannot build it.
    const winxp = readFileSync(join(WEB_CONF, '..', 'winxp-vmware.conf'), 'utf8');
    const r = await submit(svc, 'alice', { config: winxp, target: 'lxc' });
    assert.equal(r.statusCode, 422, r.body);
  });

  it('the checks of the format apply too: the README machine builds for qemu, but a Vagrant box of it is 422 at its lines', async () => {
    svc = await testService();
    const r = await submit(svc, 'alice', { config: CONFIG, target: 'qemu', format: 'box' });
    assert.equal(r.statusCode, 422, r.body);
    const body = r.json() as { diagnostics: Array<{ code: string; line: number }> };
    assert.deepEqual(body.diagnostics.filter((d) => d.code.startsWith('CFG_BOX_')).map((d) => [d.code, d.line]), [['CFG_BOX_FIRMWARE', 4], ['CFG_BOX_NIC', 49]]);
    assert.equal((await submit(svc, 'alice', { config: CONFIG, target: 'qemu' })).statusCode, 202);
  });

  it('bad requests are 400, 413 or 415 with an error code', async () => {
    svc = await testService();
    assertError(await submit(svc, 'alice', { config: CONFIG, target: 'xen' }), 400, 'VMG_USAGE');
    assertError(await submit(svc, 'alice', { config: CONFIG, target: 'oci', format: 'zip' }), 400, 'VMG_USAGE');
    assertError(await submit(svc, 'alice', { config: CONFIG, target: 'lxc', format: 'rar' }), 400, 'VMG_USAGE');
    assertError(await submit(svc, 'alice', { target: 'lxc' }), 400, 'VMG_USAGE');
    assertError(await submit(svc, 'alice', { config: 42, target: 'lxc' }), 400, 'VMG_USAGE');
    assertError(await svc.app.inject({ method: 'POST', url: '/api/builds', headers: { ...svc.auth('alice'), 'content-type': 'application/json' }, payload: '{"config": ' }), 400, 'VMG_USAGE');
    assertError(await svc.app.inject({ method: 'POST', url: '/api/builds', headers: { ...svc.auth('alice'), 'content-type': 'text/xml' }, payload: '<x/>' }), 415, 'VMG_USAGE');
    const huge = { config: `${CONFIG}\n${'# padding\n'.repeat(30_000)}`, target: 'lxc' };
    assertError(await submit(svc, 'alice', huge), 413, 'VMG_TOO_LARGE');
    assert.equal(svc.executor.submitted.length, 0);
  });

  it('a user may have only so many builds waiting (429); others are not affected', async () => {
    svc = await testService({ limits: { maxQueuedPerUser: 2 } });
    await submitOk(svc, 'alice');
    const second = await submitOk(svc, 'alice');
    assertError(await submit(svc, 'alice'), 429, 'VMG_QUEUE_FULL');
    await submitOk(svc, 'bob');
    // A build that starts no longer waits: room for one more.
    svc.executor.startBuild(second);
    await submitOk(svc, 'alice');
    assertError(await submit(svc, 'alice'), 429, 'VMG_QUEUE_FULL');
  });

  it('an executor that cannot take the build: 503, and the build is failed, not left queued', async () => {
    svc = await testService();
    svc.executor.failSubmit = new Error('redis is down');
    assertError(await submit(svc, 'alice'), 503, 'VMG_QUEUE');
    const [b] = svc.db.listBuilds();
    assert.equal(b!.state, 'failed');
    assert.match(b!.error ?? '', /redis is down/);
  });
});

describe('API: rate limit', () => {
  it('limits requests per token per minute, and without a token per address', async () => {
    svc = await testService({ limits: { rateLimitPerMinute: 5 } });
    for (let i = 0; i < 5; i++) assert.equal((await svc.app.inject({ url: '/api/me', headers: svc.auth('alice') })).statusCode, 200);
    const r = await svc.app.inject({ url: '/api/me', headers: svc.auth('alice') });
    assertError(r, 429, 'VMG_RATE_LIMITED');
    assert.ok(Number(r.headers['retry-after']) > 0, `retry-after ${show(r.headers['retry-after'])}`);
    assert.equal((await svc.app.inject({ url: '/api/me', headers: svc.auth('bob') })).statusCode, 200, 'bob has his own budget');
    // Guessing tokens is limited too: the limit comes before the token check.
    for (let i = 0; i < 5; i++) assert.equal((await svc.app.inject({ url: '/api/me' })).statusCode, 401);
    assertError(await svc.app.inject({ url: '/api/me' }), 429, 'VMG_RATE_LIMITED');
    assert.equal((await svc.app.inject({ url: '/healthz' })).statusCode, 200, 'public routes are not limited');
  });

  it('counts a token by what it parses to: respelling the header gets no fresh budget', async () => {
    svc = await testService({ limits: { rateLimitPerMinute: 4 } });
    const t = svc.tokens.alice;
    const spellings = [`Bearer ${t}`, `bearer  ${t}`, `BEARER ${t}  `, `Bearer\t${t}`];
    for (const authorization of spellings) {
      assert.equal((await svc.app.inject({ url: '/api/me', headers: { authorization } })).statusCode, 200, `${JSON.stringify(authorization)} authenticates`);
    }
    for (const authorization of [...spellings, ` bEaReR   ${t}`]) {
      assertError(await svc.app.inject({ url: '/api/me', headers: { authorization } }), 429, 'VMG_RATE_LIMITED');
    }
    assert.equal((await svc.app.inject({ url: '/api/me', headers: svc.auth('bob') })).statusCode, 200, 'bob has his own budget');
  });

  it('counts bad tokens by client address: guessing many tokens from one address hits the limit', async () => {
    svc = await testService({ limits: { rateLimitPerMinute: 5 } });
    const guess = (i: number, remoteAddress = '192.0.2.7') => svc!.app.inject({
      url: '/api/me', remoteAddress, headers: { authorization: `Bearer ${String(i).padStart(43, 'A')}` },
    });
    for (let i = 0; i < 5; i++) assertError(await guess(i), 401, 'VMG_UNAUTHORIZED');
    assertError(await guess(5), 429, 'VMG_RATE_LIMITED');
    assertError(await svc.app.inject({ url: '/api/me', remoteAddress: '192.0.2.7' }), 429, 'VMG_RATE_LIMITED');
    assertError(await guess(6, '198.51.100.1'), 401, 'VMG_UNAUTHORIZED');
    // A valid token from that address still has its own budget: a guesser next door cannot lock a user out.
    assert.equal((await svc.app.inject({ url: '/api/me', remoteAddress: '192.0.2.7', headers: svc.auth('alice') })).statusCode, 200);
  });
});

describe('API: who sees what', () => {
  it("another user's build is 404 on every route, exactly like a build that does not exist", async () => {
    const s = await testService({ auto: true });
    svc = s;
    const id = await submitOk(s, 'alice');
    await waitFor(() => s.db.getBuild(id)?.state === 'succeeded');
    for (const suffix of ['', '/log', '/events', '/artifact']) {
      const theirs = await s.app.inject({ url: `/api/builds/${id}${suffix}`, headers: s.auth('bob') });
      const none = await s.app.inject({ url: `/api/builds/AAAAAAAAAAAAAAAA${suffix}`, headers: s.auth('bob') });
      assertError(theirs, 404, 'VMG_NOT_FOUND');
      assertError(none, 404, 'VMG_NOT_FOUND');
      assert.equal(theirs.body.replace(id, 'X'), none.body.replace('AAAAAAAAAAAAAAAA', 'X'));
      assertError(await s.app.inject({ url: `/api/builds/..%2F..%2Fetc${suffix}`, headers: s.auth('alice') }), 404, 'VMG_NOT_FOUND');
    }
    assertError(await s.app.inject({ method: 'DELETE', url: `/api/builds/${id}`, headers: s.auth('bob') }), 404, 'VMG_NOT_FOUND');
    assert.equal(s.db.getBuild(id)?.state, 'succeeded');
    assert.equal((await s.app.inject({ url: `/api/builds/${id}/artifact`, headers: s.auth('alice') })).statusCode, 200);
    const asAdmin = await s.app.inject({ url: `/api/builds/${id}`, headers: s.auth('root') });
    assert.equal(asAdmin.statusCode, 200);
    assert.equal(asAdmin.json().owner, 'alice');
    assert.equal((await s.app.inject({ url: `/api/builds/${id}/artifact`, headers: s.auth('root') })).statusCode, 200);
  });

  it('a user name made again after `token revoke` is a new user: the old builds are not theirs', async () => {
    svc = await testService();
    const old = await submitOk(svc, 'alice');
    svc.db.revokeUser('alice');
    const { createToken } = await import('../../src/service/auth.js');
    const again = createToken(svc.db, 'alice', false).token;
    const headers = { authorization: `Bearer ${again}` };
    assertError(await svc.app.inject({ url: `/api/builds/${old}`, headers }), 404, 'VMG_NOT_FOUND');
    assertError(await svc.app.inject({ method: 'DELETE', url: `/api/builds/${old}`, headers }), 404, 'VMG_NOT_FOUND');
    assert.deepEqual((await svc.app.inject({ url: '/api/builds', headers })).json(), []);
    const asAdmin = await svc.app.inject({ url: `/api/builds/${old}`, headers: svc.auth('root') });
    assert.equal(asAdmin.json().owner, 'alice', 'an admin still sees the old build, under the name it was made with');
  });

  it('lists: the caller\'s own builds; an admin sees everyone\'s with ?all=1', async () => {
    svc = await testService();
    const a1 = await submitOk(svc, 'alice');
    const a2 = await submitOk(svc, 'alice');
    const b1 = await submitOk(svc, 'bob');
    const list = async (user: 'alice' | 'bob' | 'root', q = '') =>
      (await svc!.app.inject({ url: `/api/builds${q}`, headers: svc!.auth(user) })).json().map((b: { id: string }) => b.id);
    assert.deepEqual(await list('alice'), [a2, a1]);
    assert.deepEqual(await list('bob'), [b1]);
    assert.deepEqual(await list('bob', '?all=1'), [b1], 'all=1 means nothing to a user');
    assert.deepEqual(await list('root'), []);
    assert.deepEqual((await list('root', '?all=1')).sort(), [a1, a2, b1].sort());
    svc.executor.startBuild(a1);
    assert.deepEqual(await list('alice', '?state=running'), [a1]);
    assert.deepEqual(await list('alice', '?limit=1'), [a2]);
    assertError(await svc.app.inject({ url: '/api/builds?state=bogus', headers: svc.auth('alice') }), 400, 'VMG_USAGE');
    assertError(await svc.app.inject({ url: '/api/builds?limit=0', headers: svc.auth('alice') }), 400, 'VMG_USAGE');
    const shown = (await svc.app.inject({ url: '/api/builds?all=1', headers: svc.auth('root') })).json();
    everyItem(shown, (b: { owner?: string; config?: string }) => typeof b.owner === 'string' && b.config === undefined);
  });
});

describe('API: a build\'s life', () => {
  it('shows step, progress, worker, log; the artifact only once stored; counts in /metrics', async () => {
    svc = await testService();
    const id = await submitOk(svc, 'alice');
    const get = async () => (await svc!.app.inject({ url: `/api/builds/${id}`, headers: svc!.auth('alice') })).json();
    assertError(await svc.app.inject({ url: `/api/builds/${id}/artifact`, headers: svc.auth('alice') }), 404, 'VMG_NOT_FOUND');
    svc.executor.startBuild(id);
    svc.executor.emit({ id, step: 'stop and archive', progress: 0.8, log: ['packing', 'done packing'] });
    const running = await get();
    assert.equal(running.state, 'running');
    assert.equal(running.step, 'stop and archive');
    assert.equal(running.progress, 0.8);
    assert.equal(running.worker, 'fake-worker');
    assert.match(running.started, /^\d{4}-/);
    assert.equal(running.run, undefined, 'no run commands before there is an archive');
    const log = await svc.app.inject({ url: `/api/builds/${id}/log`, headers: svc.auth('alice') });
    assert.match(String(log.headers['content-type']), /^text\/plain/);
    assert.equal(log.body, 'packing\ndone packing\n');
    await svc.executor.succeed(id, svc.store, svc.dir, 'the archive bytes');
    const done = await get();
    assert.equal(done.state, 'succeeded');
    assert.deepEqual(Object.keys(done.artifact).sort(), ['bytes', 'name', 'sha256']);
    assert.equal(done.artifact.bytes, 17);
    // How to start it, for its target and format, naming the archive as the download does.
    assert.deepEqual(done.run, [
      { what: 'its folder under /var/lib/lxc, the LXC path it was built for', command: 'mkdir -p /var/lib/lxc/web1' },
      { what: 'unpack config, fstab and rootfs into it', command: 'tar -xf web1-lxc.tar.zst -C /var/lib/lxc/web1' },
      { what: 'start it (its NICs join lxcbr0: that bridge must exist here)', command: 'lxc-start -n web1 -P /var/lib/lxc' },
    ]);
    const listed = (await svc.app.inject({ url: '/api/builds', headers: svc.auth('alice') })).json() as Array<{ id: string; run?: unknown }>;
    assert.deepEqual(listed.find((b) => b.id === id)?.run, done.run);
    const art = await svc.app.inject({ url: `/api/builds/${id}/artifact`, headers: svc.auth('alice') });
    assert.equal(art.statusCode, 200);
    assert.equal(art.body, 'the archive bytes');
    const metrics = (await svc.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /^vmgen_builds\{state="succeeded"\} 1$/m);
    assert.match(metrics, /^vmgen_builds_finished_total\{state="succeeded"\} 1$/m);
    assert.match(metrics, /^vmgen_build_duration_seconds_count\{state="succeeded"\} 1$/m);
    assert.match(metrics, /^vmgen_http_requests_total\{method="GET",route="\/api\/builds\/:id\/artifact",status="404"\} 1$/m);
    assert.match(metrics, /^vmgen_http_requests_total\{method="POST",route="\/api\/builds",status="202"\} 1$/m);
  });

  it('DELETE cancels a queued build at once and a running one through the executor', async () => {
    svc = await testService();
    const queued = await submitOk(svc, 'alice');
    const running = await submitOk(svc, 'alice');
    svc.executor.startBuild(running);
    const r1 = await svc.app.inject({ method: 'DELETE', url: `/api/builds/${queued}`, headers: svc.auth('alice') });
    assert.equal(r1.statusCode, 200, r1.body);
    assert.equal(r1.json().state, 'canceled');
    const r2 = await svc.app.inject({ method: 'DELETE', url: `/api/builds/${running}`, headers: svc.auth('alice') });
    assert.equal(r2.statusCode, 200, r2.body);
    assert.equal(r2.json().state, 'canceled');
    assert.deepEqual(svc.executor.canceled, [queued, running]);
    // A late report from the executor does not bring a cancelled build back.
    svc.executor.emit({ id: queued, state: 'running' });
    assert.equal(svc.db.getBuild(queued)?.state, 'canceled');
  });

  it('DELETE of a running build answers once the build has wound down, or 202 if that takes too long', async () => {
    svc = await testService({ cancelWaitMs: 300 });
    const s = svc;
    const slow = await submitOk(s, 'alice');
    const stuck = await submitOk(s, 'alice');
    s.executor.startBuild(slow);
    s.executor.startBuild(stuck);
    // The real executor only signals the build process; the end comes later, after its cleanups.
    s.executor.cancel = async (id: string) => {
      if (id === slow) setTimeout(() => s.executor.emit({ id, state: 'canceled' }), 100);
    };
    const started = Date.now();
    const r1 = await s.app.inject({ method: 'DELETE', url: `/api/builds/${slow}`, headers: s.auth('alice') });
    assert.equal(r1.statusCode, 200, r1.body);
    assert.equal(r1.json().state, 'canceled');
    assert.ok(Date.now() - started >= 90, `canceled after ${Date.now() - started} ms`);
    const r2 = await s.app.inject({ method: 'DELETE', url: `/api/builds/${stuck}`, headers: s.auth('alice') });
    assert.equal(r2.statusCode, 202, r2.body);
    assert.equal(r2.json().state, 'running');
    assert.equal(s.events.count(), 0, 'the waits unsubscribed');
  });

  it('DELETE of a build that ended removes it and its artifact', async () => {
    svc = await testService({ auto: true });
    const id = await submitOk(svc, 'alice');
    await waitFor(() => svc!.db.getBuild(id)?.state === 'succeeded');
    const key = svc.db.getBuild(id)!.artifact!.key;
    assert.ok(await svc.store.stat(key), `${key} is stored`);
    const r = await svc.app.inject({ method: 'DELETE', url: `/api/builds/${id}`, headers: svc.auth('alice') });
    assert.equal(r.statusCode, 204);
    assert.equal(await svc.store.stat(key), undefined);
    assertError(await svc.app.inject({ url: `/api/builds/${id}`, headers: svc.auth('alice') }), 404, 'VMG_NOT_FOUND');
  });

  it('the fake executor stores what it builds: the artifact is that build\'s own', async () => {
    svc = await testService({ auto: true });
    const id = await submitOk(svc, 'bob');
    await waitFor(() => svc!.db.getBuild(id)?.state === 'succeeded');
    const art = await svc.app.inject({ url: `/api/builds/${id}/artifact`, headers: svc.auth('bob') });
    assert.equal(art.body, fakeArchive(svc.executor.submitted[0]!));
  });

  it('an unexpected failure is 500 VMG_INTERNAL with no stack trace', async () => {
    svc = await testService({ auto: true });
    const id = await submitOk(svc, 'alice');
    await waitFor(() => svc!.db.getBuild(id)?.state === 'succeeded');
    svc.store.stat = async () => {
      throw new Error('disk on fire at /secret/path');
    };
    const r = await svc.app.inject({ url: `/api/builds/${id}/artifact`, headers: svc.auth('alice') });
    assertError(r, 500, 'VMG_INTERNAL');
    assert.doesNotMatch(r.body, /secret|fire/);
  });
});

describe('API: catalog, schema, targets, me', () => {
  it('serves what the CLI derives from the same sources', async () => {
    svc = await testService();
    const get = async (url: string) => (await svc!.app.inject({ url, headers: svc!.auth('root') })).json();
    const catalog = await get('/api/catalog');
    assert.deepEqual(catalog.os.map((o: { id: string }) => o.id), testCatalogs().os.map((o) => o.id));
    assert.deepEqual(catalog.apps.map((a: { name: string }) => a.name), testCatalogs().apps.map((a) => a.name));
    assert.deepEqual(await get('/api/schema'), JSON.parse(JSON.stringify(configJsonSchema(testCatalogs()))));
    const targets = await get('/api/targets');
    assert.deepEqual(targets.map((t: { id: string }) => t.id), BUILDABLE_TARGET_IDS);
    for (const t of targets) {
      const def = findBuildable(t.id)!;
      assert.equal(t.label, def.label);
      assert.deepEqual(t.formats, def.commander.formats);
      assert.equal(t.defaultFormat, def.commander.formats[0]);
      // The OSes it can run: a container no Windows, a VM every one.
      assert.equal(t.os.includes('windows10-64'), def.kind === 'vm', `${t.id}: windows10-64`);
      assert.ok(t.os.includes('debian12-64'), `${t.id} runs Debian 12`);
    }
    assert.deepEqual(await get('/api/me'), { name: 'root', admin: true, maxQueued: 20, allowScripts: false, files: REQUEST_FILE_LIMITS });
  });

  it('unknown routes are JSON 404s', async () => {
    svc = await testService();
    assertError(await svc.app.inject({ url: '/nope' }), 404, 'VMG_NOT_FOUND');
    assertError(await svc.app.inject({ url: '/api/nope', headers: svc.auth('alice') }), 404, 'VMG_NOT_FOUND');
  });
});
