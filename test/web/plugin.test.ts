import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { noItem, show } from '../helpers/assert-values.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadCatalogs } from '../../src/catalog/load.js';
import { webPlugin } from '../../src/service/web/plugin.js';

/*
 * The web plugin on its own fastify instance (the service adds the token check in front of it):
 * the page and its assets, and the config endpoints, through fastify's inject.
 */

const repo = new URL('../../', import.meta.url);
const WEB = readFileSync(new URL('examples/debian-web.conf', repo), 'utf8');
const WINXP = readFileSync(new URL('test/fixtures/seed/winxp-vmware.conf', repo), 'utf8');
const catalogs = loadCatalogs({ env: {} });
const assets = mkdtempSync(join(tmpdir(), 'vmgen-web-'));
let app: FastifyInstance;

async function post(url: string, payload: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
  return { status: r.statusCode, body: r.json() };
}

interface Diag { code: string; severity: string; line: number; column: number; message: string; path?: string[] }

before(async () => {
  mkdirSync(join(assets, 'js'));
  writeFileSync(join(assets, 'index.html'), '<!doctype html><title>vmgen</title>');
  writeFileSync(join(assets, 'style.css'), 'body { color: black; }');
  writeFileSync(join(assets, 'js', 'main.js'), 'export {};');
  writeFileSync(join(assets, 'js', 'main.js.map'), '{}');
  app = Fastify();
  await app.register(webPlugin, { catalogs, assetsDir: assets });
  await app.ready();
});
after(async () => {
  await app.close();
  rmSync(assets, { recursive: true, force: true });
});

describe('the page and its assets', () => {
  test('GET / is the page, with a policy that runs only this server\'s scripts', async () => {
    const r = await app.inject({ url: '/' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.match(String(r.headers['content-security-policy']), /script-src 'self'/);
    assert.doesNotMatch(String(r.headers['content-security-policy']), /unsafe-inline/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(r.body, /<title>vmgen<\/title>/);
  });

  test('assets are served; source maps and paths outside are not', async () => {
    const css = await app.inject({ url: '/assets/style.css' });
    assert.equal(css.statusCode, 200);
    assert.match(String(css.headers['content-type']), /^text\/css/);
    assert.equal(css.headers['x-content-type-options'], 'nosniff');
    assert.equal((await app.inject({ url: '/assets/js/main.js' })).statusCode, 200);
    assert.notEqual((await app.inject({ url: '/assets/js/main.js.map' })).statusCode, 200);
    assert.notEqual((await app.inject({ url: '/assets/../index.html' })).statusCode, 200);
    assert.notEqual((await app.inject({ url: '/assets/%2e%2e/%2e%2e/package.json' })).statusCode, 200);
  });

  test('a page that was never built says how to build it', async () => {
    const bare = Fastify();
    await bare.register(webPlugin, { catalogs, assetsDir: join(assets, 'nothing-here') });
    const r = await bare.inject({ url: '/' });
    assert.equal(r.statusCode, 404);
    assert.deepEqual(r.json().error, { code: 'VMG_NOT_FOUND', message: 'the web page is not built', hint: 'run npm run build' });
    await bare.close();
  });
});

describe('POST /api/config/parse', () => {
  test('the logical tree and the CLI\'s diagnostics, each with its key path', async () => {
    const r = await post('/api/config/parse', { text: WEB.replace('hostname = web1', 'hostname = web_1!') });
    assert.equal(r.status, 200);
    assert.equal(r.body.valid, false);
    const tree = r.body.tree as { config: { hostname: string }; users: { users: { user0: { groups: string[] } } } };
    assert.equal(tree.config.hostname, 'web_1!');
    assert.deepEqual(tree.users.users.user0.groups, ['julius', 'sudo']);
    const d = (r.body.diagnostics as Diag[]).find((x) => x.severity === 'error')!;
    assert.deepEqual(d.path, ['config', 'hostname']);
    assert.equal(d.line, 24);
    assert.match(d.message, /hostname: 'web_1!' is not a valid hostname/);
  });

  test('flat lists read into their containers; a target adds its limits', async () => {
    const plain = await post('/api/config/parse', { text: WINXP });
    const tree = plain.body.tree as { hardware: { hdds: Record<string, unknown> } };
    assert.deepEqual(Object.keys(tree.hardware.hdds), ['hdd0']);
    noItem(plain.body.diagnostics as Diag[], (d) => d.code === 'CFG_TARGET_OS');
    const lxc = await post('/api/config/parse', { text: WINXP, target: 'lxc' });
    const os = (lxc.body.diagnostics as Diag[]).find((d) => d.code === 'CFG_TARGET_OS');
    assert.deepEqual(os?.path, ['hardware', 'os']);
  });

  test('a valid config', async () => {
    const r = await post('/api/config/parse', { text: WEB, target: 'lxc' });
    assert.equal(r.body.valid, true);
  });

  test('bad requests', async () => {
    for (const payload of [{}, { text: 5 }, { text: WEB, target: 'hyperv' }, { text: WEB, extra: 1 }, { text: 'x'.repeat(300 * 1024) }]) {
      const r = await post('/api/config/parse', payload);
      assert.equal(r.status, 400, JSON.stringify(payload).slice(0, 80));
      assert.equal((r.body.error as { code: string }).code, 'VMG_USAGE');
    }
  });
});

describe('POST /api/config/edit, /set, /unset', () => {
  test('edits in place and parses the result', async () => {
    const r = await post('/api/config/edit', {
      text: WEB,
      edits: [{ path: ['hardware', 'num_cpu'], value: '4' }, { path: ['services', 'nginx'], value: '1' }, { path: ['devel', 'git'], unset: true }],
      target: 'lxc',
    });
    assert.equal(r.status, 200);
    const text = r.body.text as string;
    assert.equal(text.split('\n')[0], WEB.split('\n')[0], 'the comment stays');
    assert.match(text, /^ {4}num_cpu = 4$/m);
    assert.match(text, /^\[services\]\n {4}sshd = 1\n {4}httpd = 1\n {4}nginx = 1\n$/m);
    assert.doesNotMatch(text, /git = 1/);
    assert.equal(r.body.valid, true);
    assert.equal((r.body.tree as { hardware: { num_cpu: string } }).hardware.num_cpu, '4');
  });

  test('set and unset, one key each', async () => {
    const s = await post('/api/config/set', { text: WEB, path: ['users', 'users', 'user1', 'groups'], value: ['vmg', 'sudo'] });
    assert.match(s.body.text as string, /groups = vmg, sudo\n/);
    const u = await post('/api/config/unset', { text: s.body.text, path: ['users', 'users', 'user1'] });
    assert.doesNotMatch(u.body.text as string, /name = vv/);
    const bad = await post('/api/config/set', { text: WEB, path: ['hardware', 'num_cpu'], value: '0' });
    assert.equal(bad.status, 200, 'an invalid value is written: the form shows why it is wrong');
    assert.deepEqual((bad.body.diagnostics as Diag[])[0]?.path, ['hardware', 'num_cpu']);
  });

  test('a text that does not parse cannot be edited: 422 with its diagnostics', async () => {
    const r = await post('/api/config/edit', { text: '[hardware\n', edits: [{ path: ['hardware', 'os'], value: 'debian12-64' }] });
    assert.equal(r.status, 422);
    assert.equal((r.body.error as { code: string }).code, 'VMG_CONFIG_INVALID');
    assert.equal((r.body.diagnostics as Diag[])[0]?.line, 1);
  });

  test('bad key paths', async () => {
    const through = await post('/api/config/edit', { text: WEB, edits: [{ path: ['hardware', 'os', 'x'], value: '1' }] });
    assert.equal(through.status, 400);
    assert.equal((through.body.error as { code: string }).code, 'VMG_KEY_PATH');
    for (const path of [[], ['hard ware'], ['a]b'], ['x\ny'], ['']]) {
      const r = await post('/api/config/edit', { text: WEB, edits: [{ path, value: '1' }] });
      assert.equal(r.status, 400, JSON.stringify(path));
    }
    const both = await post('/api/config/edit', { text: WEB, edits: [{ path: ['hardware', 'os'], value: 'x', unset: true }] });
    assert.equal(both.status, 400);
  });
});

describe('GET /api/config/apps and /api/config/text-schema', () => {
  test('what an OS can install, and why not', async () => {
    const r = await app.inject({ url: '/api/config/apps?os=debian12-64' });
    assert.equal(r.statusCode, 200);
    const body = r.json() as { os: { id: string }; apps: { name: string; available: boolean; reason?: string }[] };
    assert.equal(body.os.id, 'debian12-64');
    assert.equal(body.apps.find((a) => a.name === 'vim')?.available, true);
    const eclipse = body.apps.find((a) => a.name === 'eclipse');
    assert.equal(eclipse?.available, false);
    assert.match(eclipse?.reason ?? '', /not available on debian12-64/);
    const win = (await app.inject({ url: '/api/config/apps?os=winxppro' })).json() as typeof body;
    assert.notDeepEqual(win.apps.filter((a) => a.available).map((a) => a.name), body.apps.filter((a) => a.available).map((a) => a.name));
  });

  test('an unknown OS is 404; a bad query 400', async () => {
    assert.equal((await app.inject({ url: '/api/config/apps?os=beos' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/api/config/apps' })).statusCode, 400);
  });

  test('the text schema: sections, lists and strings as the file holds them', async () => {
    const s = (await app.inject({ url: '/api/config/text-schema' })).json() as { properties: Record<string, { properties: Record<string, { type?: string; anyOf?: unknown[] }> }> };
    assert.equal(s.properties.hardware!.properties.num_cpu!.type, 'string');
    assert.equal(s.properties.hardware!.properties.hdds!.type, 'object');
    assert.notEqual(s.properties.network!.properties.dns!.anyOf, undefined, show(s.properties.network!.properties.dns));
  });
});
