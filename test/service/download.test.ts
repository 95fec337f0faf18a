import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { DOWNLOAD_SECRET, downloadLink, LINK_TTL_DEFAULT_S, linkSignature } from '../../src/service/routes/artifact.js';
import type { DownloadLink } from '../../src/service/web/shared-types.js';
import { testService, WEB_CONF, type TestService } from './fakes.js';

/*
 * Signed download links: POST /api/builds/:id/download-link (with a token) and GET /download/:id
 * (without one), through the whole app, against a real directory store.
 */

const CONFIG = readFileSync(WEB_CONF, 'utf8');
const ARCHIVE = randomBytes(70_000);
let svc: TestService | undefined;
afterEach(async () => {
  await svc?.close();
  svc = undefined;
});

type User = 'alice' | 'bob' | 'root';

/** A build of USER that succeeded with CONTENT as its artifact. */
async function succeeded(s: TestService, user: User, content: string | Uint8Array = ARCHIVE): Promise<string> {
  const r = await s.app.inject({ method: 'POST', url: '/api/builds', headers: s.auth(user), payload: { config: CONFIG, target: 'lxc' } });
  assert.equal(r.statusCode, 202, r.body);
  const id: string = r.json().id;
  s.executor.startBuild(id);
  await s.executor.succeed(id, s.store, s.dir, content);
  assert.equal(s.db.getBuild(id)?.state, 'succeeded');
  return id;
}

async function askLink(s: TestService, user: User, id: string, payload?: object) {
  return s.app.inject({ method: 'POST', url: `/api/builds/${id}/download-link`, headers: s.auth(user), ...(payload ? { payload } : {}) });
}

async function linkFor(s: TestService, user: User, id: string): Promise<DownloadLink> {
  const r = await askLink(s, user, id);
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as DownloadLink;
}

/** A GET with no Authorization header, as a browser's download manager makes it. */
function fetchLink(s: TestService, url: string, headers: Record<string, string> = {}) {
  return s.app.inject({ method: 'GET', url, headers });
}

function assertNoDownload(r: { statusCode: number; body: string; headers: Record<string, unknown>; json(): { error: { code: string } } }): void {
  assert.equal(r.statusCode, 404, r.body);
  assert.equal(r.json().error.code, 'VMG_NOT_FOUND');
  assert.equal(r.headers['content-disposition'], undefined, 'no artifact headers on a refused link');
}

const withQuery = (url: string, change: (q: URLSearchParams) => void): string => {
  const u = new URL(url, 'http://vmgen.invalid');
  change(u.searchParams);
  return `${u.pathname}?${u.searchParams}`;
};

describe('download links', () => {
  it('a link streams the artifact\'s bytes without a token, whole, in ranges and as HEAD', async () => {
    svc = await testService();
    const id = await succeeded(svc, 'alice');
    const before = Date.now();
    const link = await linkFor(svc, 'alice', id);
    assert.match(link.url, new RegExp(`^/download/${id}\\?expires=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    const ttl = (Date.parse(link.expires) - before) / 1000;
    assert.ok(ttl > LINK_TTL_DEFAULT_S - 2 && ttl <= LINK_TTL_DEFAULT_S + 1, `lives about ${LINK_TTL_DEFAULT_S} s, not ${ttl}`);

    const whole = await fetchLink(svc, link.url);
    assert.equal(whole.statusCode, 200, whole.body);
    assert.ok(whole.rawPayload.equals(ARCHIVE), 'the bytes are the artifact\'s');
    assert.equal(whole.headers['x-checksum-sha256'], createHash('sha256').update(ARCHIVE).digest('hex'));
    assert.equal(whole.headers['content-disposition'], `attachment; filename="web1-lxc.tar.zst"; filename*=UTF-8''web1-lxc.tar.zst`);
    assert.equal(Number(whole.headers['content-length']), ARCHIVE.length);

    const part = await fetchLink(svc, link.url, { range: 'bytes=1000-1999' });
    assert.equal(part.statusCode, 206, part.body);
    assert.equal(part.headers['content-range'], `bytes 1000-1999/${ARCHIVE.length}`);
    assert.ok(part.rawPayload.equals(ARCHIVE.subarray(1000, 2000)), 'the range is the artifact\'s bytes 1000-1999');
    assert.equal((await fetchLink(svc, link.url, { range: `bytes=${ARCHIVE.length}-` })).statusCode, 416);

    const head = await svc.app.inject({ method: 'HEAD', url: link.url });
    assert.equal(head.statusCode, 200);
    assert.equal(Number(head.headers['content-length']), ARCHIVE.length);
    assert.equal(head.body, '');

    // The token route is still there, with the same bytes.
    const byToken = await svc.app.inject({ url: `/api/builds/${id}/artifact`, headers: svc.auth('alice') });
    assert.equal(byToken.statusCode, 200);
    assert.ok(byToken.rawPayload.equals(ARCHIVE), 'the token route sends the same bytes');
  });

  it('only someone who may see the build gets a link, and only for an artifact that exists', async () => {
    svc = await testService();
    const id = await succeeded(svc, 'alice');
    assert.equal((await svc.app.inject({ method: 'POST', url: `/api/builds/${id}/download-link` })).statusCode, 401);
    const bob = await askLink(svc, 'bob', id);
    assert.equal(bob.statusCode, 404);
    assert.doesNotMatch(bob.body, /sig=/);
    // An admin's link is for the build's owner like anyone's: it works.
    const admin = await linkFor(svc, 'root', id);
    assert.equal((await fetchLink(svc, admin.url)).statusCode, 200);

    const queued = await svc.app.inject({ method: 'POST', url: '/api/builds', headers: svc.auth('alice'), payload: { config: CONFIG, target: 'lxc' } });
    const r = await askLink(svc, 'alice', queued.json().id);
    assert.equal(r.statusCode, 404);
    assert.match(r.json().error.message, /it is queued/);
  });

  it('expiresIn sets the lifetime, within bounds', async () => {
    svc = await testService();
    const id = await succeeded(svc, 'alice');
    const before = Date.now();
    const r = await askLink(svc, 'alice', id, { expiresIn: 60 });
    assert.equal(r.statusCode, 200, r.body);
    const ttl = (Date.parse(r.json().expires) - before) / 1000;
    assert.ok(ttl > 58 && ttl <= 61, `about 60 s, not ${ttl}`);
    for (const bad of [0, 5, 1.5, '60', 90_000_000]) {
      const refused = await askLink(svc, 'alice', id, { expiresIn: bad });
      assert.equal(refused.statusCode, 400, `expiresIn ${JSON.stringify(bad)}: ${refused.body}`);
    }
  });

  it('an expired link is refused, and says so', async () => {
    svc = await testService();
    const id = await succeeded(svc, 'alice');
    const key = svc.db.secret(DOWNLOAD_SECRET);
    const past = downloadLink(key, svc.db.getBuild(id)!, Math.floor(Date.now() / 1000) - 1);
    const r = await fetchLink(svc, past.url);
    assertNoDownload(r);
    assert.match(r.json().error.message, /expired/);
    // The same key, a moment later: the refusal above was the expiry, not the signature.
    const later = downloadLink(key, svc.db.getBuild(id)!, Math.floor(Date.now() / 1000) + 30);
    assert.equal((await fetchLink(svc, later.url)).statusCode, 200);
  });

  it('an altered link is refused: expiry, signature, another key, a signature that decodes the same', async () => {
    svc = await testService();
    const id = await succeeded(svc, 'alice');
    const link = await linkFor(svc, 'alice', id);
    const sig = new URL(link.url, 'http://vmgen.invalid').searchParams.get('sig')!;
    const expires = Number(new URL(link.url, 'http://vmgen.invalid').searchParams.get('expires'));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 43 characters hold 258 bits for a 256-bit MAC: flipping the lowest bit of the last one decodes to the same bytes.
    const sameBytes = sig.slice(0, -1) + alphabet[alphabet.indexOf(sig.at(-1)!) ^ 1];
    assert.ok(Buffer.from(sameBytes, 'base64url').equals(Buffer.from(sig, 'base64url')), 'the two spellings decode alike');
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    const otherKey = linkSignature(randomBytes(32), id, 'alice', expires);
    const cases: Record<string, string> = {
      'a later expiry': withQuery(link.url, (q) => q.set('expires', String(expires + 3600))),
      'a changed signature': withQuery(link.url, (q) => q.set('sig', flipped)),
      'another key': withQuery(link.url, (q) => q.set('sig', otherKey)),
      'another spelling of the signature': withQuery(link.url, (q) => q.set('sig', sameBytes)),
      'no signature': withQuery(link.url, (q) => q.delete('sig')),
      'no expiry': withQuery(link.url, (q) => q.delete('expires')),
      'a signature twice': `${link.url}&sig=${sig}`,
      'a short signature': withQuery(link.url, (q) => q.set('sig', sig.slice(1))),
    };
    for (const [what, url] of Object.entries(cases)) {
      const r = await fetchLink(svc, url);
      assert.equal(r.statusCode, 404, `${what}: ${r.body}`);
      assert.doesNotMatch(r.body, /expired/, `${what}: only a genuine link is told it expired`);
    }
    assert.equal((await fetchLink(svc, link.url)).statusCode, 200, 'the untouched link still works');
  });

  it('a link is for its build only, and another build, a missing one or a bad id are refused alike', async () => {
    svc = await testService();
    const mine = await succeeded(svc, 'alice');
    const other = await succeeded(svc, 'alice', 'the other archive');
    const bobs = await succeeded(svc, 'bob', 'bob\'s archive');
    const link = await linkFor(svc, 'alice', mine);
    const moved = (id: string): string => link.url.replace(`/download/${mine}`, `/download/${id}`);
    const refusals = [];
    for (const id of [other, bobs, 'AAAAAAAAAAAAAAAA', 'bad..id']) {
      const r = await fetchLink(svc, moved(id));
      assertNoDownload(r);
      refusals.push(r.body);
    }
    assert.equal(new Set(refusals).size, 1, `one answer whether the build exists or not: ${refusals.join(' | ')}`);
    // A deleted build's link dies with it.
    assert.equal((await svc.app.inject({ method: 'DELETE', url: `/api/builds/${mine}`, headers: svc.auth('alice') })).statusCode, 204);
    assert.equal((await fetchLink(svc, link.url)).body, refusals[0]);
  });

  it('a link is an HMAC under the database\'s signing key', async () => {
    svc = await testService();
    const id = await succeeded(svc, 'alice');
    const link = await linkFor(svc, 'alice', id);
    const key = svc.db.secret(DOWNLOAD_SECRET);
    assert.equal(key.length, 32);
    const { url } = downloadLink(key, svc.db.getBuild(id)!, Number(new URL(link.url, 'http://vmgen.invalid').searchParams.get('expires')));
    assert.equal(url, link.url, 'the link is an HMAC under the stored key');
  });
});
