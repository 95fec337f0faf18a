import assert from 'node:assert/strict';
import { isInstance } from '../helpers/assert-values.js';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VmgenError } from '../../src/errors.js';
import { artifactKey, checkKey, createArtifactStore, DirArtifactStore, parseS3Url, S3ArtifactStore } from '../../src/service/artifacts/index.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

describe('artifact keys', () => {
  it('accept <id>/<file name> and refuse anything that could leave the store or name a temp file', () => {
    assert.equal(artifactKey('b-123', 'web1-lxc.tar.zst'), 'b-123/web1-lxc.tar.zst');
    assert.equal(artifactKey('-zMW_R', 'x.tar'), '-zMW_R/x.tar', 'ids are base64url');
    for (const bad of ['', '..', '../x', 'a/../b', '/etc/passwd', 'a//b', 'a/', '.incoming/x', 'a/.hidden', 'a\\b', 'a b', 'x\0y', 'ä', 'a'.repeat(600)]) {
      assert.throws(() => checkKey(bad), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_ARTIFACT_KEY', bad);
    }
  });

  it('parse s3:// locations', () => {
    assert.deepEqual(parseS3Url('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseS3Url('s3://my.bucket/vmgen/artifacts/'), { bucket: 'my.bucket', prefix: 'vmgen/artifacts' });
    for (const bad of ['s3://', 'http://b/x', 's3://UPPER', 's3://b/../x', 's3://ab']) assert.throws(() => parseS3Url(bad), VmgenError, bad);
  });
});

describe('DirArtifactStore', () => {
  const root = mkdtempSync(join(tmpdir(), 'vmgen-art-'));
  const store = new DirArtifactStore(join(root, 'store'));
  after(() => rmSync(root, { recursive: true, force: true }));

  function source(name: string, bytes: Buffer): string {
    const p = join(root, name);
    writeFileSync(p, bytes);
    return p;
  }

  it('moves the file in and reports its size and SHA-256; the source is gone, no temp is left', async () => {
    // Over two of the store's 1 MiB reads, and not a multiple of them.
    const data = randomBytes(2_500_001);
    const src = source('a.tar', data);
    const r = await store.put('b1/web1-lxc.tar.zst', src);
    assert.deepEqual(r, { bytes: data.length, sha256: sha(data) });
    assert.equal(existsSync(src), false);
    assert.deepEqual(readFileSync(join(root, 'store', 'b1', 'web1-lxc.tar.zst')), data);
    assert.deepEqual(readdirSync(join(root, 'store', '.incoming')), []);
    assert.deepEqual(await store.stat('b1/web1-lxc.tar.zst'), { bytes: data.length });
  });

  it('refuses an artifact of no files, and stores nothing for it', async () => {
    await assert.rejects(store.put('b0/none.tar', []), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_ARTIFACT_STORE' && /no files/.test(e.message));
    assert.equal(await store.stat('b0/none.tar'), undefined);
  });

  it('opens whole files and inclusive byte ranges', async () => {
    const data = randomBytes(70_000);
    await store.put('b2/x.tar', source('b.tar', data));
    assert.deepEqual(await readAll(await store.open('b2/x.tar')), data);
    assert.deepEqual(await readAll(await store.open('b2/x.tar', { start: 10, end: 19 })), data.subarray(10, 20));
    assert.deepEqual(await readAll(await store.open('b2/x.tar', { start: 69_999, end: 69_999 })), data.subarray(69_999));
    await assert.rejects(store.open('b2/x.tar', { start: 5, end: 70_000 }), /outside/);
    await assert.rejects(store.open('b2/x.tar', { start: 9, end: 3 }), /outside/);
  });

  it('copies across file systems (EXDEV) with the same result', { skip: !existsSync('/dev/shm') && 'no /dev/shm' }, async () => {
    const shm = mkdtempSync('/dev/shm/vmgen-art-');
    try {
      const data = randomBytes(1_234_567);
      const src = join(shm, 'c.tar');
      writeFileSync(src, data);
      assert.deepEqual(await store.put('b3/c.tar', src), { bytes: data.length, sha256: sha(data) });
      assert.equal(existsSync(src), false);
      assert.deepEqual(await readAll(await store.open('b3/c.tar')), data);
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });

  it('replaces an artifact atomically: a reader of the old one keeps reading the old bytes', async () => {
    const first = randomBytes(200_000);
    const second = randomBytes(200_000);
    await store.put('b4/r.tar', source('r1', first));
    const reading = await store.open('b4/r.tar');
    await store.put('b4/r.tar', source('r2', second));
    assert.deepEqual(await readAll(reading), first);
    assert.deepEqual(await readAll(await store.open('b4/r.tar')), second);
  });

  it('stat and open of a missing key: undefined and VMG_NOT_FOUND; delete removes the build folder with its last file', async () => {
    assert.equal(await store.stat('nope/x.tar'), undefined);
    await assert.rejects(store.open('nope/x.tar'), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_NOT_FOUND');
    await store.put('b5/d.tar', source('d', Buffer.from('x')));
    await store.delete('b5/d.tar');
    assert.equal(existsSync(join(root, 'store', 'b5')), false);
    await store.delete('b5/d.tar');
  });

  it('refuses bad keys before touching the disk, and a file whose put failed leaves no temp', async () => {
    await assert.rejects(store.put('../escape', source('e', Buffer.from('x'))), /bad artifact key/);
    assert.equal(existsSync(join(root, 'escape')), false);
    await assert.rejects(store.put('b6/f.tar', join(root, 'does-not-exist')), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_ARTIFACT_STORE');
    assert.deepEqual(readdirSync(join(root, 'store', '.incoming')), []);
  });

  it('a build folder that is a symbolic link out of the store is not followed', async () => {
    const outside = join(root, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, join(root, 'store', 'evil'));
    // The key is well-formed; the path check cannot see links, so the store must not write through one.
    await store.put('evil/g.tar', source('g', Buffer.from('x'))).catch(() => undefined);
    assert.deepEqual(readdirSync(outside), [], 'nothing written outside the store');
  });

  it('keeps several files as one artifact read as them joined: size, hash, whole and any range across the joins', async () => {
    const head = randomBytes(1_300_000);
    const rest = randomBytes(70_001);
    const joined = Buffer.concat([head, rest]);
    const files = [source('h1', head), source('r1', rest)];
    assert.deepEqual(await store.put('p1/web-lxc.tar.zst', files), { bytes: joined.length, sha256: sha(joined) });
    assert.ok(files.every((f) => !existsSync(f)), 'the files were moved in');
    assert.deepEqual(readdirSync(join(root, 'store', '.incoming')), [], 'no temp is left');
    assert.deepEqual(await store.stat('p1/web-lxc.tar.zst'), { bytes: joined.length });
    assert.deepEqual(await readAll(await store.open('p1/web-lxc.tar.zst')), joined);
    const edge = head.length;
    for (const [start, end] of [[0, 0], [edge - 1, edge], [edge, edge], [edge - 10, joined.length - 1], [5, edge - 1], [joined.length - 1, joined.length - 1]] as const) {
      assert.deepEqual(await readAll(await store.open('p1/web-lxc.tar.zst', { start, end })), joined.subarray(start, end + 1), `bytes ${start}-${end}`);
    }
    await assert.rejects(store.open('p1/web-lxc.tar.zst', { start: 0, end: joined.length }), /outside/);
    await store.delete('p1/web-lxc.tar.zst');
    assert.equal(existsSync(join(root, 'store', 'p1')), false, 'delete takes the parts and the build folder');
  });

  it('a first file shared by two artifacts (a layer part linked from the cache) stays readable through each, and its hash follows its content', async () => {
    const head = randomBytes(300_000);
    const cached = source('cached-part', head);
    const [a, b] = [randomBytes(1000), randomBytes(2000)];
    const linkA = join(root, 'link-a');
    linkSync(cached, linkA);
    assert.equal((await store.put('p2/a.tar', [linkA, source('ra', a)])).sha256, sha(Buffer.concat([head, a])));
    const linkB = join(root, 'link-b');
    linkSync(cached, linkB);
    assert.equal((await store.put('p3/b.tar', [linkB, source('rb', b)])).sha256, sha(Buffer.concat([head, b])), 'the kept hash of the first file, then the second');
    await store.delete('p2/a.tar');
    assert.deepEqual(await readAll(await store.open('p3/b.tar')), Buffer.concat([head, b]), 'deleting one artifact leaves the other whole');
    // Replaced in the cache (a new file under the same name): the next artifact hashes the new one.
    rmSync(cached);
    const newer = randomBytes(300_000);
    source('cached-part', newer);
    const linkC = join(root, 'link-c');
    linkSync(cached, linkC);
    assert.equal((await store.put('p4/c.tar', [linkC, source('rc', a)])).sha256, sha(Buffer.concat([newer, a])));
  });

  it('an artifact put again under its key replaces it, a single file by parts and back', async () => {
    const [x, y, z] = [randomBytes(5000), randomBytes(6000), randomBytes(7000)];
    await store.put('p5/r.tar', source('s1', x));
    await store.put('p5/r.tar', [source('s2', y), source('s3', z)]);
    assert.deepEqual(await readAll(await store.open('p5/r.tar')), Buffer.concat([y, z]));
    await store.put('p5/r.tar', source('s4', x));
    assert.deepEqual(await readAll(await store.open('p5/r.tar')), x);
    assert.deepEqual(readdirSync(join(root, 'store', 'p5')), ['r.tar']);
  });

  it('a directory at a key that put did not make is no artifact', async () => {
    mkdirSync(join(root, 'store', 'p6', 'odd.tar'), { recursive: true });
    writeFileSync(join(root, 'store', 'p6', 'odd.tar', 'notes'), 'x');
    assert.equal(await store.stat('p6/odd.tar'), undefined);
    await assert.rejects(store.open('p6/odd.tar'), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_NOT_FOUND');
  });

  it('createArtifactStore picks the directory or the S3 store', () => {
    isInstance(createArtifactStore({ dir: root }), DirArtifactStore);
    isInstance(createArtifactStore({ s3: 's3://bucket-x/p', endpoint: 'http://127.0.0.1:9' }), S3ArtifactStore);
  });
});

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  bytes: number;
}

/**
 * Enough of the S3 REST protocol (path-style) to take the store's requests and answer them the
 * way S3 does: objects with metadata, Range reads, HEAD, DELETE, multipart uploads. It records
 * every request, so the test can check what the SDK put on the wire.
 */
function fakeS3(): { server: Server; requests: Recorded[]; objects: Map<string, { body: Buffer; meta: Record<string, string> }> } {
  const requests: Recorded[] = [];
  const objects = new Map<string, { body: Buffer; meta: Record<string, string> }>();
  const uploads = new Map<string, { key: string; meta: Record<string, string>; parts: Map<number, Buffer> }>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, bytes: body.length });
      const url = new URL(req.url!, 'http://x');
      const key = decodeURIComponent(url.pathname.slice(1));
      const meta = Object.fromEntries(Object.entries(req.headers).filter(([h]) => h.startsWith('x-amz-meta-')).map(([h, v]) => [h.slice(11), String(v)]));
      const q = url.searchParams;
      const notFound = (): void => {
        res.writeHead(404, { 'content-type': 'application/xml' }).end(req.method === 'HEAD' ? undefined : '<Error><Code>NoSuchKey</Code><Message>no</Message></Error>');
      };
      if (req.method === 'POST' && q.has('uploads')) {
        const id = randomBytes(6).toString('hex');
        uploads.set(id, { key, meta, parts: new Map() });
        res.writeHead(200, { 'content-type': 'application/xml' })
          .end(`<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>${key}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
      } else if (req.method === 'PUT' && q.has('uploadId')) {
        const up = uploads.get(q.get('uploadId')!)!;
        up.parts.set(Number(q.get('partNumber')), body);
        res.writeHead(200, { etag: `"${sha(body).slice(0, 32)}"` }).end();
      } else if (req.method === 'POST' && q.has('uploadId')) {
        const up = uploads.get(q.get('uploadId')!)!;
        const numbers = [...body.toString().matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
        objects.set(up.key, { body: Buffer.concat(numbers.map((n) => up.parts.get(n)!)), meta: up.meta });
        uploads.delete(q.get('uploadId')!);
        res.writeHead(200, { 'content-type': 'application/xml' }).end(`<CompleteMultipartUploadResult><Key>${up.key}</Key><ETag>"x"</ETag></CompleteMultipartUploadResult>`);
      } else if (req.method === 'PUT') {
        objects.set(key, { body, meta });
        res.writeHead(200, { etag: '"e"' }).end();
      } else if (req.method === 'HEAD' || req.method === 'GET') {
        const o = objects.get(key);
        if (!o) return notFound();
        const metaHeaders = Object.fromEntries(Object.entries(o.meta).map(([k, v]) => [`x-amz-meta-${k}`, v]));
        const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
        if (range && req.method === 'GET') {
          const [s, e] = [Number(range[1]), Number(range[2])];
          res.writeHead(206, { 'content-length': e - s + 1, 'content-range': `bytes ${s}-${e}/${o.body.length}`, ...metaHeaders }).end(o.body.subarray(s, e + 1));
        } else {
          res.writeHead(200, { 'content-length': o.body.length, ...metaHeaders }).end(req.method === 'GET' ? o.body : undefined);
        }
      } else if (req.method === 'DELETE') {
        objects.delete(key);
        res.writeHead(204).end();
      } else {
        res.writeHead(400).end();
      }
    });
  });
  return { server, requests, objects };
}

describe('S3ArtifactStore against a local endpoint that speaks the S3 protocol (not a real S3 server)', () => {
  const root = mkdtempSync(join(tmpdir(), 'vmgen-s3-'));
  const s3 = fakeS3();
  let endpoint = '';
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, region: process.env.AWS_REGION };
  before(async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDVMGENTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-for-tests';
    process.env.AWS_REGION = 'eu-test-1';
    await new Promise<void>((r) => s3.server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(s3.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => s3.server.close(r));
    rmSync(root, { recursive: true, force: true });
    for (const [k, v] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret], ['AWS_REGION', saved.region]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  function file(name: string, data: Buffer): string {
    const p = join(root, name);
    writeFileSync(p, data);
    return p;
  }

  it('puts with one signed, path-style PUT carrying the SHA-256 as metadata, then reads ranges back', async () => {
    const store = createArtifactStore({ s3: 's3://vmgen-art/pre/fix', endpoint }) as S3ArtifactStore;
    const data = randomBytes(50_000);
    const src = file('one.tar', data);
    s3.requests.length = 0;
    assert.deepEqual(await store.put('b1/web1-lxc.tar.zst', src), { bytes: data.length, sha256: sha(data) });
    assert.equal(existsSync(src), false, 'the local file is removed once uploaded');
    const put = s3.requests.find((r) => r.method === 'PUT')!;
    assert.equal(put.url.replace(/\?x-id=PutObject$/, ''), '/vmgen-art/pre/fix/b1/web1-lxc.tar.zst');
    assert.equal(put.bytes, data.length);
    assert.equal(put.headers['x-amz-meta-sha256'], sha(data));
    assert.match(String(put.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDVMGENTEST\/\d{8}\/eu-test-1\/s3\/aws4_request/);
    assert.deepEqual(s3.objects.get('vmgen-art/pre/fix/b1/web1-lxc.tar.zst')?.body, data);

    assert.deepEqual(await store.stat('b1/web1-lxc.tar.zst'), { bytes: data.length });
    assert.deepEqual(await readAll(await store.open('b1/web1-lxc.tar.zst', { start: 100, end: 199 })), data.subarray(100, 200));
    assert.equal(s3.requests.at(-1)!.headers.range, 'bytes=100-199');
    assert.deepEqual(await readAll(await store.open('b1/web1-lxc.tar.zst')), data);
  });

  it('uploads a large file in parts and completes it', async () => {
    const store = new S3ArtifactStore(parseS3Url('s3://vmgen-art'), { endpoint, partBytes: 20_000 });
    const data = randomBytes(45_000);
    s3.requests.length = 0;
    assert.deepEqual(await store.put('b2/big.tar', file('big.tar', data)), { bytes: data.length, sha256: sha(data) });
    assert.deepEqual(s3.requests.map((r) => `${r.method} ${r.url.replace(/uploadId=[0-9a-f]+/, 'uploadId=U').replace(/&?x-id=[A-Za-z]+/, '').replace(/\?$/, '')}`), [
      'POST /vmgen-art/b2/big.tar?uploads=',
      'PUT /vmgen-art/b2/big.tar?partNumber=1&uploadId=U',
      'PUT /vmgen-art/b2/big.tar?partNumber=2&uploadId=U',
      'PUT /vmgen-art/b2/big.tar?partNumber=3&uploadId=U',
      'POST /vmgen-art/b2/big.tar?uploadId=U',
    ]);
    assert.deepEqual(s3.requests.slice(1, 4).map((r) => r.bytes), [20_000, 20_000, 5_000]);
    assert.deepEqual(s3.objects.get('vmgen-art/b2/big.tar')?.body, data);
    assert.equal(s3.objects.get('vmgen-art/b2/big.tar')?.meta.sha256, sha(data));
  });

  it('uploads several files as one object, the files joined, in parts that cross the joins', async () => {
    const store = new S3ArtifactStore(parseS3Url('s3://vmgen-art'), { endpoint, partBytes: 20_000 });
    const [head, rest] = [randomBytes(30_000), randomBytes(15_000)];
    const files = [file('head.tar', head), file('rest.tar', rest)];
    const joined = Buffer.concat([head, rest]);
    s3.requests.length = 0;
    assert.deepEqual(await store.put('b5/joined.tar', files), { bytes: joined.length, sha256: sha(joined) });
    assert.deepEqual(s3.requests.filter((r) => r.method === 'PUT').map((r) => r.bytes), [20_000, 20_000, 5_000]);
    assert.deepEqual(s3.objects.get('vmgen-art/b5/joined.tar')?.body, joined);
    assert.ok(files.every((f) => !existsSync(f)), 'the local files are removed once uploaded');
    const small = createArtifactStore({ s3: 's3://vmgen-art', endpoint });
    await small.put('b6/small.tar', [file('h2', head.subarray(0, 10)), file('r2', rest.subarray(0, 5))]);
    assert.deepEqual(s3.objects.get('vmgen-art/b6/small.tar')?.body, Buffer.concat([head.subarray(0, 10), rest.subarray(0, 5)]), 'one PUT of both');
    s3.requests.length = 0;
    await assert.rejects(small.put('b7/none.tar', []), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_ARTIFACT_STORE' && /no files/.test(e.message));
    assert.deepEqual(s3.requests, [], 'an artifact of no files never reaches the server');
  });

  it('missing objects: stat undefined, open VMG_NOT_FOUND; delete; bad keys never reach the server', async () => {
    const store = createArtifactStore({ s3: 's3://vmgen-art', endpoint });
    assert.equal(await store.stat('none/x'), undefined);
    await assert.rejects(store.open('none/x'), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_NOT_FOUND');
    await store.put('b3/d.tar', file('d.tar', Buffer.from('abc')));
    await store.delete('b3/d.tar');
    assert.equal(await store.stat('b3/d.tar'), undefined);
    const before = s3.requests.length;
    await assert.rejects(store.put('../x', file('e.tar', Buffer.from('x'))), /bad artifact key/);
    assert.equal(s3.requests.length, before);
  });

  it('a server that refuses is VMG_ARTIFACT_STORE, and the local file is kept for a retry', async () => {
    const store = createArtifactStore({ s3: 's3://vmgen-art', endpoint: 'http://127.0.0.1:9' });
    const src = file('kept.tar', Buffer.from('x'));
    await assert.rejects(store.put('b4/k.tar', src), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_ARTIFACT_STORE');
    assert.equal(existsSync(src), true, `${src} is kept when the upload fails`);
  });
});
