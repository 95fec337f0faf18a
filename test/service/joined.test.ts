import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { hashJoined, joinedStream, openParts, sliceParts } from '../../src/service/artifacts/joined.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('files read as one, joined end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-joined-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sliceParts: the slices of any range cover exactly its bytes, in order, empty parts skipped', () => {
    fc.assert(fc.property(
      fc.array(fc.nat(40), { minLength: 1, maxLength: 6 }).filter((s) => s.some((n) => n > 0)),
      fc.nat(), fc.nat(),
      (sizes, a, b) => {
        const total = sizes.reduce((x, y) => x + y, 0);
        const [start, end] = [a % total, b % total].sort((x, y) => x - y) as [number, number];
        const bytes = sizes.flatMap((n, i) => Array.from({ length: n }, (_, j) => `${i}:${j}`));
        const slices = sliceParts(sizes, start, end);
        const got = slices.flatMap((s) => Array.from({ length: s.end - s.start + 1 }, (_, j) => `${s.index}:${s.start + j}`));
        assert.deepEqual(got, bytes.slice(start, end + 1));
        assert.ok(slices.every((s) => s.start <= s.end && s.end < sizes[s.index]!), `each slice lies inside its part: ${JSON.stringify(slices)}`);
      },
    ));
  });

  it('joinedStream reads whole files and ranges across them, and closes what it opened', async () => {
    const datas = [randomBytes(300_000), Buffer.alloc(0), randomBytes(123_457)];
    const paths = datas.map((d, i) => {
      const p = join(dir, `part-${i}`);
      writeFileSync(p, d);
      return p;
    });
    const joined = Buffer.concat(datas);
    assert.deepEqual(await readAll(joinedStream(await openParts(paths))), joined);
    const parts = await openParts(paths);
    assert.deepEqual(await readAll(joinedStream(parts, { start: 299_990, end: 300_009 })), joined.subarray(299_990, 300_010));
    await assert.rejects(parts[0]!.fh.stat(), /closed|EBADF/, 'the stream closed its handles');
    const early = await openParts(paths);
    const stream = joinedStream(early);
    for await (const chunk of stream) {
      assert.ok((chunk as Buffer).length > 0, 'a chunk has bytes');
      break;
    }
    // The generator finishes the read in flight, then runs its cleanup.
    for (let i = 0; i < 100 && early[2]!.fh.fd !== -1; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(early[2]!.fh.fd, -1, 'a reader that stops early closes the handles too');
  });

  it('openParts opens all or none', async () => {
    await assert.rejects(openParts([join(dir, 'part-0'), join(dir, 'missing')]), /ENOENT/);
  });

  it('hashJoined is the SHA-256 of the files joined, also when the first files are hashed again from what it kept', async () => {
    const head = join(dir, 'head');
    const tail = join(dir, 'tail');
    const [h, t1, t2] = [randomBytes(2_000_000), randomBytes(10), randomBytes(20)];
    writeFileSync(head, h);
    writeFileSync(tail, t1);
    assert.equal(await hashJoined([head, tail]), sha(Buffer.concat([h, t1])));
    writeFileSync(tail, t2);
    assert.equal(await hashJoined([head, tail]), sha(Buffer.concat([h, t2])), 'the kept state of the head, then the new tail');
    // Rewritten in place with the same size: its modification time tells it changed.
    const h2 = randomBytes(2_000_000);
    writeFileSync(head, h2);
    utimesSync(head, new Date(), new Date(Date.now() + 5000));
    assert.equal(await hashJoined([head, tail]), sha(Buffer.concat([h2, t2])));
    assert.equal(await hashJoined([tail]), sha(t2));
  });
});
