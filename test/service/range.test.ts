import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { contentDisposition, parseRange } from '../../src/service/routes/artifact.js';
import { testService, WEB_CONF, type TestService } from './fakes.js';

describe('Range header parsing', () => {
  const size = 1000;
  const cases: Array<[string | undefined, ReturnType<typeof parseRange>]> = [
    [undefined, undefined],
    ['bytes=0-99', { start: 0, end: 99 }],
    ['bytes=100-', { start: 100, end: 999 }],
    ['bytes=-100', { start: 900, end: 999 }],
    ['bytes=-5000', { start: 0, end: 999 }],
    ['bytes=990-5000', { start: 990, end: 999 }],
    ['bytes=999-999', { start: 999, end: 999 }],
    ['BYTES = 1 - 2', { start: 1, end: 2 }],
    ['bytes=1000-', 'unsatisfiable'],
    ['bytes=5000-6000', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    // Ignored (the whole file is sent): malformed, other units, several ranges.
    ['bytes=5-1', undefined],
    ['bytes=-', undefined],
    ['bytes=a-b', undefined],
    ['items=0-1', undefined],
    ['bytes=0-1,5-6', undefined],
    ['bytes=99999999999999999999-', undefined],
  ];
  for (const [header, want] of cases) {
    it(`${header ?? '(none)'} → ${JSON.stringify(want)}`, () => assert.deepEqual(parseRange(header, size), want));
  }
  it('an empty file has no satisfiable range', () => {
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
    assert.equal(parseRange('bytes=-1', 0), 'unsatisfiable');
  });
  it('Content-Disposition carries an ASCII fallback and the exact name', () => {
    assert.equal(contentDisposition('web1-lxc.tar.zst'), `attachment; filename="web1-lxc.tar.zst"; filename*=UTF-8''web1-lxc.tar.zst`);
    assert.equal(contentDisposition('a"b\\ü.tar'), `attachment; filename="a_b__.tar"; filename*=UTF-8''a%22b%5C%C3%BC.tar`);
  });
});

describe('artifact downloads over HTTP', () => {
  let svc: TestService;
  let url: string;
  let id: string;
  const data = randomBytes(300_000);
  const sha = createHash('sha256').update(data).digest('hex');
  const get = (headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${url}/api/builds/${id}/artifact`, { method, headers: { ...svc.auth('alice'), ...headers } });

  before(async () => {
    svc = await testService();
    url = await svc.app.listen({ host: '127.0.0.1', port: 0 });
    const r = await svc.app.inject({ method: 'POST', url: '/api/builds', headers: svc.auth('alice'), payload: { config: readFileSync(WEB_CONF, 'utf8'), target: 'lxc' } });
    id = r.json().id;
    svc.executor.startBuild(id);
    await svc.executor.succeed(id, svc.store, svc.dir, data);
  });
  after(() => svc.close());

  it('the whole file, with its length, name and SHA-256 in the headers', async () => {
    const r = await get();
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-length'), String(data.length));
    assert.equal(r.headers.get('accept-ranges'), 'bytes');
    assert.equal(r.headers.get('x-checksum-sha256'), sha);
    const b64 = Buffer.from(sha, 'hex').toString('base64');
    assert.equal(r.headers.get('digest'), `sha-256=${b64}`);
    assert.equal(r.headers.get('repr-digest'), `sha-256=:${b64}:`);
    assert.equal(r.headers.get('etag'), `"${sha}"`);
    assert.match(r.headers.get('content-disposition') ?? '', /^attachment; filename="web1-lxc\.tar\.zst"/);
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), data);
  });

  it('one range: 206 with Content-Range and exactly those bytes', async () => {
    for (const [header, start, end] of [['bytes=0-0', 0, 0], ['bytes=1000-1999', 1000, 1999], ['bytes=299990-', 299990, 299999], ['bytes=-10', 299990, 299999]] as const) {
      const r = await get({ range: header });
      assert.equal(r.status, 206, header);
      assert.equal(r.headers.get('content-range'), `bytes ${start}-${end}/${data.length}`);
      assert.equal(r.headers.get('content-length'), String(end - start + 1));
      assert.equal(r.headers.get('x-checksum-sha256'), sha, 'the digest is of the whole file');
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(data.subarray(start, end + 1)), header);
    }
  });

  it('a resumed download put together from ranges is the file', async () => {
    const parts: Buffer[] = [];
    for (let start = 0; start < data.length; start += 65536) {
      const r = await get({ range: `bytes=${start}-${start + 65535}`, 'if-range': `"${sha}"` });
      assert.equal(r.status, 206);
      parts.push(Buffer.from(await r.arrayBuffer()));
    }
    assert.equal(createHash('sha256').update(Buffer.concat(parts)).digest('hex'), sha);
  });

  it('a range past the end is 416 with the size; If-Range for another version sends the whole file', async () => {
    const r = await get({ range: `bytes=${data.length}-` });
    assert.equal(r.status, 416);
    assert.equal(r.headers.get('content-range'), `bytes */${data.length}`);
    assert.equal((await r.json()).error.code, 'VMG_RANGE');
    const stale = await get({ range: 'bytes=0-9', 'if-range': '"0000"' });
    assert.equal(stale.status, 200);
    assert.equal(Buffer.from(await stale.arrayBuffer()).length, data.length);
    const multi = await get({ range: 'bytes=0-1,5-6' });
    assert.equal(multi.status, 200);
    await multi.arrayBuffer();
  });

  it('HEAD: the headers without the body', async () => {
    const r = await get({}, 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-length'), String(data.length));
    assert.equal(r.headers.get('x-checksum-sha256'), sha);
    assert.equal((await r.arrayBuffer()).byteLength, 0);
  });

  it('an artifact removed from the store is 404, not a broken download', async () => {
    const key = svc.db.getBuild(id)!.artifact!.key;
    const saved = svc.store.stat.bind(svc.store);
    svc.store.stat = async (k: string) => (k === key ? undefined : saved(k));
    try {
      const r = await get();
      assert.equal(r.status, 404);
      assert.equal((await r.json()).error.code, 'VMG_NOT_FOUND');
    } finally {
      svc.store.stat = saved;
    }
  });
});
