import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { VmgenError } from '../../src/errors.js';
import { filesBodyLimit, readRequestFiles, requestSources, REQUEST_FILE_LIMITS } from '../../src/service/request-files.js';
import type { SourcePolicy } from '../../src/service/source-policy.js';
import { testService, waitFor, WEB_CONF, type TestService } from './fakes.js';

const CONFIG = readFileSync(WEB_CONF, 'utf8');
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const SITE = `${CONFIG}
[files]
    [[site]]
        path = /var/www/lab
        source = site
        owner = www-data
`;
const SITE_FILES = { 'site/index.html': b64('<h1>lab</h1>\n'), 'site/img/logo.svg': b64('<svg/>') };
const POLICY: SourcePolicy = { allow: ['http://mirror.example'], allowPublic: false };

interface Diag { code: string; line: number; column: number; message: string; hint?: string; path?: string[] }

function refusal(fn: () => unknown): VmgenError {
  try {
    fn();
  } catch (err) {
    if (err instanceof VmgenError) return err;
    throw err;
  }
  assert.fail('expected a refusal');
}

describe('the files a request carries', () => {
  it('are kept by their paths in normal form, and read back through the ConfigSources interface', () => {
    const files = readRequestFiles({ 'site//index.html': b64('hi'), 'site/./a/b.txt': b64('') });
    assert.deepEqual(files, { 'site/index.html': b64('hi'), 'site/a/b.txt': '' });
    const sources = requestSources(files);
    assert.deepEqual(sources.stat('site'), { kind: 'dir' });
    assert.deepEqual(sources.stat('site/index.html'), { kind: 'file', bytes: 2 });
    assert.equal(sources.readFile('site/index.html').toString(), 'hi');
    assert.deepEqual(sources.list('site'), ['a', 'index.html']);
    assert.equal(readRequestFiles(undefined), undefined, 'no files at all is fine');
    assert.equal(requestSources(undefined).stat('site'), undefined, 'without files, a source names nothing');
  });

  it('are refused, each with its reason, when a path is not relative or the content is not base64', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [['x'], 'VMG_USAGE', /must be an object/],
      ['x', 'VMG_USAGE', /must be an object/],
      [{ '/etc/passwd': '' }, 'VMG_USAGE', /"\/etc\/passwd" is not a relative path/],
      [{ '../up.txt': '' }, 'VMG_USAGE', /"\.\.\/up\.txt" is not a relative path/],
      [{ 'a/../../up.txt': '' }, 'VMG_USAGE', /is not a relative path/],
      [{ 'a\0b': '' }, 'VMG_USAGE', /is not a relative path/],
      [{ 'a\\b': '' }, 'VMG_USAGE', /is not a relative path/],
      [{ '.': '' }, 'VMG_USAGE', /is not a relative path/],
      [{ '': '' }, 'VMG_USAGE', /is not a relative path/],
      [{ 'a.txt': 'not base64!' }, 'VMG_USAGE', /content of a\.txt is not base64/],
      [{ 'a.txt': 'abc' }, 'VMG_USAGE', /not base64/],
      [{ 'a.txt': 12 }, 'VMG_USAGE', /not base64/],
      [{ 'a/b': '', 'a//b': '' }, 'VMG_USAGE', /names a\/b a second time/],
      [{ site: '', 'site/index.html': '' }, 'VMG_USAGE', /site is a file, and site\/index\.html puts a file inside it/],
    ];
    for (const [value, code, message] of cases) {
      const err = refusal(() => readRequestFiles(value));
      assert.equal(err.code, code, JSON.stringify(value));
      assert.match(err.message, message, JSON.stringify(value));
    }
  });

  it('are refused with 413 over a limit: one file, all together, how many', () => {
    const limits = { maxFileBytes: 10, maxTotalBytes: 16, maxFiles: 3 };
    assert.deepEqual(readRequestFiles({ a: b64('0123456789') }, limits), { a: b64('0123456789') }, 'exactly at the limit is fine');
    const one = refusal(() => readRequestFiles({ a: b64('0123456789x') }, limits));
    assert.equal(one.code, 'VMG_TOO_LARGE');
    assert.match(one.message, /a is 11 bytes; one file may be at most 0 MiB/);
    const all = refusal(() => readRequestFiles({ a: b64('0123456789'), b: b64('0123456') }, limits));
    assert.equal(all.code, 'VMG_TOO_LARGE');
    assert.match(all.message, /more than .* together/);
    const many = refusal(() => readRequestFiles({ a: '', b: '', c: '', d: '' }, limits));
    assert.equal(many.code, 'VMG_TOO_LARGE');
    assert.match(many.message, /carries 4 files; the limit is 3/);
    assert.ok(filesBodyLimit(256 * 1024) > (REQUEST_FILE_LIMITS.maxTotalBytes * 4) / 3, 'the routes take the files in base64');
  });
});

describe('API: a build request with its files', () => {
  let svc: TestService | undefined;
  afterEach(async () => {
    await svc?.close();
    svc = undefined;
  });
  const post = (url: string, payload: unknown) => svc!.app.inject({ method: 'POST', url, headers: svc!.auth('alice'), payload: payload as object });

  it('a source the request does not carry is an error at its line; carried, the build gets the files, and they go when it ends', async () => {
    svc = await testService({ sourcePolicy: POLICY });
    const missing = await post('/api/builds', { config: SITE, target: 'lxc' });
    assert.equal(missing.statusCode, 422, missing.body);
    const diag = (missing.json() as { diagnostics: Diag[] }).diagnostics.find((d) => d.code === 'CFG_SOURCE_MISSING');
    assert.ok(diag, `a missing source is reported: ${missing.body}`);
    assert.equal(SITE.split('\n')[diag.line - 1], '        source = site');
    assert.equal(diag.column, 18);
    assert.equal(svc.executor.submitted.length, 0, 'nothing reached the executor');

    const parsed = await post('/api/config/parse', { text: SITE, target: 'lxc', files: SITE_FILES });
    assert.equal(parsed.statusCode, 200, parsed.body);
    assert.deepEqual((parsed.json() as { diagnostics: Diag[] }).diagnostics.filter((d) => d.code.startsWith('CFG_SOURCE')), [], 'the page sees it valid with the files');

    const ok = await post('/api/builds', { config: SITE, target: 'lxc', files: SITE_FILES });
    assert.equal(ok.statusCode, 202, ok.body);
    const { id } = ok.json() as { id: string };
    assert.deepEqual(svc.executor.submitted[0]!.files, SITE_FILES, 'the executor gets the files with the config');
    assert.deepEqual(svc.db.buildFiles(id), SITE_FILES, 'stored with the build, for a restart');
    assert.equal(JSON.stringify((await svc.app.inject({ method: 'GET', url: `/api/builds/${id}`, headers: svc.auth('alice') })).json()).includes(SITE_FILES['site/index.html']), false,
      'the build view does not echo the files');
    svc.executor.startBuild(id);
    svc.executor.emit({ id, state: 'failed', error: 'boom', errorCode: 'VMG_BUILD' });
    await waitFor(() => svc!.db.getBuild(id)?.state === 'failed');
    assert.equal(svc.db.buildFiles(id), undefined, 'an ended build keeps no files');
  });

  it('bad files are refused before the config is read: a path out of the directory is 400, too many bytes 413', async () => {
    svc = await testService({ sourcePolicy: POLICY });
    const out = await post('/api/builds', { config: SITE, target: 'lxc', files: { '../etc/shadow': b64('x') } });
    assert.equal(out.statusCode, 400, out.body);
    assert.match((out.json() as { error: { message: string } }).error.message, /"\.\.\/etc\/shadow" is not a relative path inside the config's directory/);
    const parse = await post('/api/config/parse', { text: SITE, files: { '/abs': b64('x') } });
    assert.equal(parse.statusCode, 400, parse.body);

    const big = Buffer.alloc(REQUEST_FILE_LIMITS.maxFileBytes + 1, 7);
    const tooBig = await post('/api/builds', { config: SITE, target: 'lxc', files: { 'site/index.html': b64(big) } });
    assert.equal(tooBig.statusCode, 413, tooBig.body.slice(0, 300));
    assert.match((tooBig.json() as { error: { message: string } }).error.message, /site\/index\.html is 8388609 bytes; one file may be at most 8 MiB/);
    assert.equal(svc.executor.submitted.length, 0, 'nothing reached the executor');

    const huge = 'x'.repeat(filesBodyLimit(256 * 1024) + 10);
    const overBody = await post('/api/builds', { config: SITE, target: 'lxc', files: { 'site/index.html': huge } });
    assert.equal(overBody.statusCode, 413);
    assert.match((overBody.json() as { error: { message: string } }).error.message, new RegExp(`larger than ${filesBodyLimit(256 * 1024)} bytes`));
    const small = await svc.app.inject({ method: 'POST', url: '/api/builds/x/download-link', headers: svc.auth('alice'), payload: { pad: 'x'.repeat(300 * 1024) } });
    assert.equal(small.statusCode, 413, 'other routes keep the small limit');
  });
});

describe('API: build scripts need --allow-scripts', () => {
  let svc: TestService | undefined;
  afterEach(async () => {
    await svc?.close();
    svc = undefined;
  });
  const post = (url: string, payload: unknown) => svc!.app.inject({ method: 'POST', url, headers: svc!.auth('alice'), payload: payload as object });
  const SCRIPTS = `${CONFIG}
[scripts]
    [[stamp]]
        run = date > /etc/stamp
    [[later]]
        when = first-boot
        run = touch /var/lib/later
    [[explicit]]
        when = build
        run = true
`;

  it('refuses a build-time script at its line (422, SVC_SCRIPTS_DISABLED); a first-boot script is fine; the page hears it and /api/me says so', async () => {
    svc = await testService({ sourcePolicy: POLICY });
    const r = await post('/api/builds', { config: SCRIPTS, target: 'lxc' });
    assert.equal(r.statusCode, 422, r.body);
    const refused = (r.json() as { diagnostics: Diag[] }).diagnostics.filter((d) => d.code === 'SVC_SCRIPTS_DISABLED');
    const lines = SCRIPTS.split('\n');
    assert.deepEqual(refused.map((d) => lines[d.line - 1]!.trim()), ['[[stamp]]', 'when = build'], 'at the script without `when`, and at the `when` that says build');
    assert.match(refused[0]!.message, /script 'stamp' runs at build time, on the build host, and this server does not run build scripts/);
    assert.match(refused[0]!.hint ?? '', /the admin can start the service with --allow-scripts/);
    assert.equal(svc.executor.submitted.length, 0, 'nothing reached the executor');

    const page = await post('/api/config/parse', { text: SCRIPTS, target: 'lxc' });
    assert.deepEqual((page.json() as { diagnostics: Diag[] }).diagnostics.filter((d) => d.code === 'SVC_SCRIPTS_DISABLED').map((d) => d.path),
      // Both at the When field (the one to change), though stamp's is the default, which its file does not write.
      [['scripts', 'stamp', 'when'], ['scripts', 'explicit', 'when']]);

    const firstBootOnly = `${CONFIG}\n[scripts]\n    [[later]]\n        when = first-boot\n        run = touch /var/lib/later\n`;
    assert.equal((await post('/api/builds', { config: firstBootOnly, target: 'lxc' })).statusCode, 202);
    const me = await svc.app.inject({ method: 'GET', url: '/api/me', headers: svc.auth('alice') });
    assert.equal((me.json() as { allowScripts: boolean }).allowScripts, false);
    assert.deepEqual((me.json() as { files: unknown }).files, REQUEST_FILE_LIMITS);
  });

  it('with --allow-scripts the same config is accepted, and /api/me says scripts are allowed', async () => {
    svc = await testService({ sourcePolicy: { ...POLICY, allowBuildScripts: true } });
    const r = await post('/api/builds', { config: SCRIPTS, target: 'lxc' });
    assert.equal(r.statusCode, 202, r.body);
    const me = await svc.app.inject({ method: 'GET', url: '/api/me', headers: svc.auth('alice') });
    assert.equal((me.json() as { allowScripts: boolean }).allowScripts, true);
  });
});
