import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openApiDocument, openApiPath, type OpenApiDocument } from '../../src/service/api/openapi.js';
import { API_ROUTES, type ApiRoute } from '../../src/service/api/routes.js';
import { BuildViewSchema } from '../../src/service/api/schemas.js';
import type { LabView } from '../../src/service/web/shared-types.js';
import { compileComponents, OpenApiChecker } from '../helpers/openapi-check.js';
import { ROOT, testCatalogs, testService, waitFor, WEB_CONF, type TestService } from './fakes.js';

/*
 * The API's description against the API: every route of the table called with real requests
 * (the app with its real routes and checker, a temp job table, the fake executor), each answer's
 * status, content type and body checked against the description, every body a route accepted
 * checked against what the description says it takes, and the routes fastify has against the table.
 */

const CONFIG = readFileSync(WEB_CONF, 'utf8');
const NET101 = join(ROOT, 'examples', 'net101');
const LAB = readFileSync(join(NET101, 'lab.conf'), 'utf8');
const LAB_FILES = Object.fromEntries(['gw.conf', 'web.conf', 'pc.conf', 'students.csv'].map((f) => [f, readFileSync(join(NET101, f)).toString('base64')]));
const NO_SUCH_ID = 'AAAAAAAAAAAAAAAA';
/** Documented answers this test does not provoke, and why. */
const NOT_EXERCISED = new Map([
  ['DELETE /api/builds/:id 202', 'a build that takes longer than 10 s to wind down after its cancel'],
]);

type User = 'alice' | 'bob' | 'root';
/** notFound: the route passes the request on to the app's not-found handler (the static files do). */
interface Call { user?: User; payload?: unknown; headers?: Record<string, string>; notFound?: true }

describe('the OpenAPI description against real answers', () => {
  let svc: TestService;
  let checker: OpenApiChecker;
  let assets: string;
  const registered: Array<{ method: string; url: string }> = [];
  const seen = new Set<string>();
  let matched: string | undefined;

  before(async () => {
    assets = mkdtempSync(join(tmpdir(), 'vmgen-openapi-web-'));
    writeFileSync(join(assets, 'index.html'), '<!doctype html><title>vmgen</title>');
    writeFileSync(join(assets, 'style.css'), 'body { margin: 0 }');
    svc = await testService({ webAssetsDir: assets, onRoute: (r) => registered.push(r) });
    // onResponse: it runs however the request ended (the token check throws in an earlier onRequest hook).
    svc.app.addHook('onResponse', async (req) => {
      matched = `${req.method} ${req.routeOptions.url}`;
    });
    const res = await svc.app.inject({ url: '/api/openapi.json' });
    assert.equal(res.statusCode, 200, res.body);
    checker = new OpenApiChecker(res.json<OpenApiDocument>());
  });
  after(async () => {
    await svc.close();
    rmSync(assets, { recursive: true, force: true });
  });

  /** Calls ROUTE ("GET /api/builds/:id") at URL and checks the answer against the description. */
  async function call(route: string, url: string, c: Call = {}) {
    const [method, pattern] = route.split(' ') as [string, string];
    matched = undefined;
    const res = await svc.app.inject({
      method: method as 'GET', url, headers: { ...(c.user ? svc.auth(c.user) : {}), ...c.headers },
      ...(c.payload === undefined ? {} : { payload: c.payload as object }),
    });
    assert.equal(matched, `${method} ${c.notFound ? undefined : pattern}`, `${url} reached the route meant`);
    assert.deepEqual(checker.checkResponse(method, pattern, res), [], `${method} ${url} ${res.statusCode}: ${res.body.slice(0, 400)}`);
    if (res.statusCode < 300 && c.payload !== undefined) {
      assert.deepEqual(checker.checkRequest(method, pattern, c.payload), [], `${method} ${url} accepted a body its description does not take`);
    }
    seen.add(`${method} ${pattern} ${res.statusCode}`);
    return res;
  }

  const expect = async (status: number, route: string, url: string, c: Call = {}) => {
    const res = await call(route, url, c);
    assert.equal(res.statusCode, status, `${route} at ${url}: ${res.body.slice(0, 400)}`);
    return res;
  };

  it('every route that needs a token answers 401 without one, as described', async () => {
    for (const r of API_ROUTES.filter((x) => x.auth === 'token')) {
      const url = r.url.replace(':id', NO_SUCH_ID);
      await expect(401, `${r.method} ${r.url}`, url, r.body ? { payload: {} } : {});
    }
  });

  it('builds: submit, list, show, log, events, artifact, links, delete', async () => {
    const accepted = await expect(202, 'POST /api/builds', '/api/builds', { user: 'alice', payload: { config: CONFIG, target: 'lxc' } });
    const id = accepted.json<{ id: string }>().id;
    await expect(400, 'POST /api/builds', '/api/builds', { user: 'alice', payload: { config: CONFIG, target: 'no-such-target' } });
    await expect(422, 'POST /api/builds', '/api/builds', { user: 'alice', payload: { config: CONFIG.replace('ram = 1GB', 'ram = lots'), target: 'lxc' } });
    await expect(413, 'POST /api/builds', '/api/builds', { user: 'alice', payload: { config: 'x'.repeat(300 * 1024), target: 'lxc' } });
    await expect(400, 'POST /api/builds', '/api/builds', { user: 'alice', payload: '{not json', headers: { 'content-type': 'application/json' } });

    await expect(200, 'GET /api/builds', '/api/builds', { user: 'alice' });
    await expect(200, 'GET /api/builds', '/api/builds?all=1&state=queued&limit=5', { user: 'root' });
    await expect(400, 'GET /api/builds', '/api/builds?state=paused', { user: 'alice' });
    await expect(200, 'GET /api/builds/:id', `/api/builds/${id}`, { user: 'alice' });
    await expect(404, 'GET /api/builds/:id', `/api/builds/${NO_SUCH_ID}`, { user: 'alice' });
    await expect(404, 'GET /api/builds/:id/artifact', `/api/builds/${id}/artifact`, { user: 'alice' });
    await expect(404, 'POST /api/builds/:id/download-link', `/api/builds/${id}/download-link`, { user: 'alice', payload: {} });

    svc.executor.startBuild(id);
    svc.executor.emit({ id, log: ['first line', 'second line'] });
    await expect(200, 'GET /api/builds/:id/log', `/api/builds/${id}/log`, { user: 'alice' });
    await expect(404, 'GET /api/builds/:id/log', `/api/builds/${NO_SUCH_ID}/log`, { user: 'alice' });
    await svc.executor.succeed(id, svc.store, svc.dir, 'the archive '.repeat(20));
    await expect(200, 'GET /api/builds/:id', `/api/builds/${id}`, { user: 'root' });
    await expect(200, 'GET /api/builds/:id/events', `/api/builds/${id}/events`, { user: 'alice' });
    await expect(404, 'GET /api/builds/:id/events', `/api/builds/${NO_SUCH_ID}/events`, { user: 'alice' });

    const artifact = `/api/builds/${id}/artifact`;
    await expect(200, 'GET /api/builds/:id/artifact', artifact, { user: 'alice' });
    await expect(206, 'GET /api/builds/:id/artifact', artifact, { user: 'alice', headers: { range: 'bytes=0-9' } });
    await expect(416, 'GET /api/builds/:id/artifact', artifact, { user: 'alice', headers: { range: 'bytes=99999-' } });
    await expect(200, 'HEAD /api/builds/:id/artifact', artifact, { user: 'alice' });
    await expect(206, 'HEAD /api/builds/:id/artifact', artifact, { user: 'alice', headers: { range: 'bytes=0-9' } });

    const link = (await expect(200, 'POST /api/builds/:id/download-link', `/api/builds/${id}/download-link`, { user: 'alice', payload: { expiresIn: 60 } }))
      .json<{ url: string }>().url;
    await expect(200, 'POST /api/builds/:id/download-link', `/api/builds/${id}/download-link`, { user: 'alice' });
    await expect(400, 'POST /api/builds/:id/download-link', `/api/builds/${id}/download-link`, { user: 'alice', payload: { expiresIn: 5 } });
    await expect(200, 'GET /download/:id', link);
    await expect(206, 'GET /download/:id', link, { headers: { range: 'bytes=-5' } });
    await expect(416, 'GET /download/:id', link, { headers: { range: 'bytes=99999-' } });
    await expect(200, 'HEAD /download/:id', link);
    await expect(206, 'HEAD /download/:id', link, { headers: { range: 'bytes=1-2' } });
    await expect(404, 'GET /download/:id', link.replace(/sig=[^&]+/, `sig=${'A'.repeat(43)}`));

    const running = (await expect(202, 'POST /api/builds', '/api/builds', { user: 'alice', payload: { config: CONFIG, target: 'lxc', format: 'tar.gz', files: {} } }))
      .json<{ id: string }>().id;
    svc.executor.startBuild(running);
    await expect(200, 'DELETE /api/builds/:id', `/api/builds/${running}`, { user: 'alice' });
    await expect(204, 'DELETE /api/builds/:id', `/api/builds/${id}`, { user: 'alice' });
    await expect(404, 'DELETE /api/builds/:id', `/api/builds/${id}`, { user: 'alice' });
  });

  it('labs: submit, list, show, archive, cancel, delete', async () => {
    const body = { lab: LAB, target: 'lxc', files: LAB_FILES };
    const lab = (await expect(202, 'POST /api/labs', '/api/labs', { user: 'bob', payload: body })).json<LabView>();
    await expect(422, 'POST /api/labs', '/api/labs', { user: 'bob', payload: { ...body, lab: LAB.replace('eth0 = dmz:10.20.0.10', 'eth0 = dmx:10.20.0.10') } });
    await expect(400, 'POST /api/labs', '/api/labs', { user: 'bob', payload: { ...body, target: 'no-such-target' } });
    await expect(200, 'GET /api/labs', '/api/labs', { user: 'bob' });
    await expect(200, 'GET /api/labs', '/api/labs?all=1', { user: 'root' });
    await expect(200, 'GET /api/labs/:id', `/api/labs/${lab.id}`, { user: 'bob' });
    await expect(404, 'GET /api/labs/:id', `/api/labs/${lab.id}`, { user: 'alice' });
    await expect(404, 'GET /api/labs/:id/archive', `/api/labs/${lab.id}/archive`, { user: 'bob' });

    const jobs = lab.machines.map((m) => m.build);
    svc.executor.startBuild(jobs[0]!);
    await expect(200, 'GET /api/labs/:id', `/api/labs/${lab.id}`, { user: 'root' });
    for (const j of jobs) await svc.executor.succeed(j, svc.store, svc.dir, `member ${j}`, `${j}.tar`);
    await waitFor(() => svc.executor.submitted.some((r) => r.lab?.role === 'assemble' && r.lab.lab === lab.id));
    const assembly = svc.executor.submitted.find((r) => r.lab?.role === 'assemble' && r.lab.lab === lab.id)!;
    await svc.executor.succeed(assembly.id, svc.store, svc.dir, 'the lab archive', 'net101-lxc.tar.zst');
    const archive = `/api/labs/${lab.id}/archive`;
    await expect(200, 'GET /api/labs/:id', `/api/labs/${lab.id}`, { user: 'bob' });
    await expect(200, 'GET /api/labs/:id/archive', archive, { user: 'bob' });
    await expect(206, 'GET /api/labs/:id/archive', archive, { user: 'bob', headers: { range: 'bytes=0-2' } });
    await expect(416, 'GET /api/labs/:id/archive', archive, { user: 'bob', headers: { range: 'bytes=99999-' } });
    await expect(200, 'HEAD /api/labs/:id/archive', archive, { user: 'bob' });
    await expect(206, 'HEAD /api/labs/:id/archive', archive, { user: 'bob', headers: { range: 'bytes=0-2' } });
    await expect(204, 'DELETE /api/labs/:id', `/api/labs/${lab.id}`, { user: 'bob' });
    await expect(404, 'DELETE /api/labs/:id', `/api/labs/${lab.id}`, { user: 'bob' });

    const other = (await expect(202, 'POST /api/labs', '/api/labs', { user: 'bob', payload: body })).json<LabView>();
    await expect(200, 'DELETE /api/labs/:id', `/api/labs/${other.id}`, { user: 'bob' });
  });

  it('what a client reads: catalog, schemas, targets, me, the config endpoints', async () => {
    for (const url of ['/api/catalog', '/api/schema', '/api/targets', '/api/me', '/api/config/text-schema']) await expect(200, `GET ${url}`, url, { user: 'alice' });
    await expect(200, 'GET /api/me', '/api/me', { user: 'root' });
    await expect(200, 'POST /api/config/parse', '/api/config/parse', { user: 'alice', payload: { text: CONFIG, target: 'lxc' } });
    await expect(200, 'POST /api/config/parse', '/api/config/parse', { user: 'alice', payload: { text: CONFIG.replace('ram = 1GB', 'ram = lots') } });
    await expect(200, 'POST /api/config/parse', '/api/config/parse', { user: 'alice', payload: { text: '[hardware\nram = 1GB\n' } });
    await expect(400, 'POST /api/config/parse', '/api/config/parse', { user: 'alice', payload: { target: 'lxc' } });
    await expect(200, 'POST /api/config/edit', '/api/config/edit', {
      user: 'alice', payload: { text: CONFIG, edits: [{ path: ['hardware', 'ram'], value: '2GB' }, { path: ['hardware', 'num_cpu'], unset: true }] },
    });
    await expect(422, 'POST /api/config/edit', '/api/config/edit', { user: 'alice', payload: { text: '[hardware\n', edits: [{ path: ['hardware', 'ram'], value: '2GB' }] } });
    await expect(400, 'POST /api/config/edit', '/api/config/edit', { user: 'alice', payload: { text: CONFIG, edits: [{ path: ['a b'], value: 'x' }] } });
    await expect(200, 'POST /api/config/set', '/api/config/set', { user: 'alice', payload: { text: CONFIG, path: ['hardware', 'ram'], value: '2GB', target: 'lxc' } });
    await expect(200, 'POST /api/config/unset', '/api/config/unset', { user: 'alice', payload: { text: CONFIG, path: ['hardware', 'ram'] } });
    await expect(400, 'POST /api/config/unset', '/api/config/unset', { user: 'alice', payload: { text: CONFIG, path: ['hardware', 'ram'], extra: 1 } });
    const os = testCatalogs().os[0]!.id;
    await expect(200, 'GET /api/config/apps', `/api/config/apps?os=${os}`, { user: 'alice' });
    await expect(404, 'GET /api/config/apps', '/api/config/apps?os=no-such-os', { user: 'alice' });
    await expect(400, 'GET /api/config/apps', '/api/config/apps', { user: 'alice' });
    await expect(200, 'GET /api/config/presets', '/api/config/presets?target=lxc', { user: 'alice' });
    await expect(400, 'GET /api/config/presets', '/api/config/presets?target=no-such-target', { user: 'alice' });
  });

  it('public routes: the description, its page, health, metrics, the web page', async () => {
    await expect(200, 'GET /api/openapi.json', '/api/openapi.json');
    const page = await expect(200, 'GET /api/docs', '/api/docs');
    await expect(200, 'GET /api/docs', '/api/docs', { user: 'alice' });
    await expect(200, 'GET /healthz', '/healthz');
    await expect(200, 'GET /metrics', '/metrics');
    await expect(200, 'GET /', '/');
    await expect(200, 'GET /assets/*', '/assets/style.css');
    await expect(200, 'HEAD /assets/*', '/assets/style.css');
    await expect(404, 'GET /assets/*', '/assets/none.css', { notFound: true });
    const schemaVersion = svc.db.schemaVersion;
    svc.db.schemaVersion = () => {
      throw new Error('the database is gone');
    };
    try {
      await expect(503, 'GET /healthz', '/healthz');
    } finally {
      svc.db.schemaVersion = schemaVersion;
    }
    // The page is readable without a network: nothing loaded from elsewhere, no script at all.
    assert.doesNotMatch(page.body, /<script|<link|\bsrc=|href="(?:https?:)?\/\//i, 'the docs page loads nothing');
    assert.doesNotMatch(String(page.headers['content-security-policy']), /https?:|\*/, 'its CSP allows no other origin');
    for (const r of API_ROUTES) assert.ok(page.body.includes(`id="op-${r.operationId}"`), `the docs page shows ${r.method} ${r.url}`);
  });

  it('the table and fastify have the same routes, and every described success was seen', () => {
    const table = new Set(API_ROUTES.flatMap((r) => [`${r.method} ${r.url}`, ...(r.method === 'GET' ? [`HEAD ${r.url}`] : [])]));
    const have = new Set(registered.map((r) => `${r.method} ${r.url}`));
    assert.deepEqual([...have].filter((r) => !table.has(r)), [], 'routes fastify has that the description lacks');
    assert.deepEqual(API_ROUTES.map((r) => `${r.method} ${r.url}`).filter((r) => !have.has(r)), [], 'described routes fastify does not have');

    const byPath = new Map(API_ROUTES.map((r) => [openApiPath(r.url), r.url]));
    const successes = Object.entries(checker.doc.paths).flatMap(([path, item]) => Object.entries(item).flatMap(([method, op]) =>
      Object.keys(op.responses).filter((s) => s < '300').map((s) => `${method.toUpperCase()} ${byPath.get(path)} ${s}`)));
    assert.ok(successes.length > API_ROUTES.length, `the description lists successes: ${successes.length}`);
    assert.deepEqual(successes.filter((s) => !seen.has(s) && !NOT_EXERCISED.has(s)), [], 'described answers no request provoked');
    assert.deepEqual(compileComponents(checker).length, Object.keys(checker.doc.components.schemas).length);
  });

  it('the served document is the one the table makes', async () => {
    const served = (await svc.app.inject({ url: '/api/openapi.json' })).json<OpenApiDocument>();
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.deepEqual(served, JSON.parse(JSON.stringify(openApiDocument({ version }))));
    assert.equal(served.openapi, '3.1.1');
    assert.deepEqual(served.components.securitySchemes, { bearerToken: { type: 'http', scheme: 'bearer', description: (served.components.securitySchemes.bearerToken as { description: string }).description } });
  });

  it('an answer that drifts from the description is refused', async () => {
    const accepted = await expect(202, 'POST /api/builds', '/api/builds', { user: 'alice', payload: { config: CONFIG, target: 'lxc' } });
    const url = `/api/builds/${accepted.json<{ id: string }>().id}`;
    const real = await expect(200, 'GET /api/builds/:id', url, { user: 'alice' });
    const body = real.json<Record<string, unknown>>();
    const as = (b: unknown, over: Partial<{ statusCode: number; type: string }> = {}) => ({
      statusCode: over.statusCode ?? 200, headers: { 'content-type': over.type ?? 'application/json; charset=utf-8' }, body: JSON.stringify(b),
    });
    const { steps: _dropped, ...withoutSteps } = body;
    const drifts: Array<[string, ReturnType<typeof as>]> = [
      ['a required property gone', as(withoutSteps)],
      ['a property the description does not have', as({ ...body, priority: 1 })],
      ['a state outside the enum', as({ ...body, state: 'paused' })],
      ['a number where a string was', as({ ...body, created: Date.now() })],
      ['another content type', as(body, { type: 'text/plain' })],
      ['a status not described', as(body, { statusCode: 409 })],
      ['an error code the route does not list', as({ error: { code: 'VMG_USAGE', message: 'x' } }, { statusCode: 404 })],
    ];
    for (const [what, drifted] of drifts) {
      assert.ok(checker.checkResponse('GET', '/api/builds/:id', drifted).length > 0, `${what} is refused`);
    }

    // The other way round: the description drifts from the code (a row that forgot `config`).
    const table: ApiRoute[] = API_ROUTES.map((r) => r.operationId === 'getBuild' ? { ...r, replies: { 200: { description: 'the build', json: BuildViewSchema } } } : r);
    const stale = new OpenApiChecker(openApiDocument({ version: '0' }, table));
    const problems = stale.checkResponse('GET', '/api/builds/:id', real);
    assert.ok(problems.some((p) => p.includes('additionalProperty') && p.includes('config')), `the stale description refuses the real answer: ${problems.join('; ')}`);
  });
});
