import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { layerTarArgv, writeLayerBlob } from '../../src/targets/oci/layer.js';
import { encodePax, parsePax, WhiteoutRewriter } from '../../src/targets/oci/whiteouts.js';

const work = mkdtempSync(join(tmpdir(), 'vmgen-whiteouts-'));
after(() => rmSync(work, { recursive: true, force: true }));

function sh(argv: string[], input?: Buffer): Buffer {
  const r = spawnSync(argv[0]!, argv.slice(1), { ...(input ? { input } : {}), maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${argv.join(' ')}: ${String(r.stderr)}`);
  return r.stdout;
}

const LONG_DIR = `deep/${'d'.repeat(60)}/${'e'.repeat(60)}`;

/**
 * A real overlay's upper directory after deletions: the kernel writes the whiteouts (character
 * devices 0/0, possibly hard links of one shared whiteout) and marks a directory replaced
 * by a new one opaque (trusted.overlay.opaque=y). Undefined where overlayfs cannot be mounted.
 */
function overlayUpper(name: string): string | undefined {
  const root = join(work, name);
  for (const d of ['lower/etc/keep', 'lower/srv/old', `lower/${LONG_DIR}`, 'upper', 'ovl-work', 'merged']) mkdirSync(join(root, d), { recursive: true });
  for (const f of ['etc/gone', 'etc/gone-too', 'etc/keep/x', 'srv/old/file', `${LONG_DIR}/a-file-whose-path-is-longer-than-one-hundred-bytes`]) {
    writeFileSync(join(root, 'lower', f), `${f}\n`);
  }
  const mount = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o',
    `lowerdir=${root}/lower,upperdir=${root}/upper,workdir=${root}/ovl-work,redirect_dir=off,metacopy=off`, join(root, 'merged')]);
  if (mount.status !== 0) return undefined;
  try {
    const merged = join(root, 'merged');
    rmSync(join(merged, 'etc/gone'));
    rmSync(join(merged, 'etc/gone-too'));
    rmSync(join(merged, LONG_DIR, 'a-file-whose-path-is-longer-than-one-hundred-bytes'));
    rmSync(join(merged, 'srv/old'), { recursive: true });
    mkdirSync(join(merged, 'srv/old'));
    writeFileSync(join(merged, 'srv/old/new'), 'new\n');
    writeFileSync(join(merged, 'etc/hello'), 'hello\n');
  } finally {
    sh(['umount', join(root, 'merged')]);
  }
  return join(root, 'upper');
}

/** `tar -tv` of a layer: "TYPE+MODE SIZE PATH" per entry, without dates and owners. */
function listing(tar: Buffer): string[] {
  return sh(['tar', '--numeric-owner', '-tvf', '-'], tar).toString('utf8').trim().split('\n')
    .map((l) => l.split(/\s+/))
    .map((f) => `${f[0]} ${f[2]} ${f.slice(5).join(' ')}`);
}

describe('OCI whiteouts from an overlay upper directory', () => {
  const upper = overlayUpper('a');
  const skip = upper === undefined ? 'overlayfs cannot be mounted here (needs root and the overlay module)' : false;

  test('whiteouts become empty .wh. files, an opaque directory gains .wh..wh..opq, overlay attributes go', { skip }, async () => {
    const blobs = join(work, 'blobs-a');
    mkdirSync(blobs);
    const layer = await writeLayerBlob(upper!, blobs, { overlay: true });
    const tar = gunzipSync(readFileSync(join(blobs, layer.digest.slice('sha256:'.length))));
    assert.deepEqual(listing(tar), [
      'drwxr-xr-x 0 ./',
      'drwxr-xr-x 0 ./deep/',
      `drwxr-xr-x 0 ./deep/${'d'.repeat(60)}/`,
      `drwxr-xr-x 0 ./${LONG_DIR}/`,
      `-rw-r--r-- 0 ./${LONG_DIR}/.wh.a-file-whose-path-is-longer-than-one-hundred-bytes`,
      'drwxr-xr-x 0 ./etc/',
      '-rw-r--r-- 0 ./etc/.wh.gone',
      '-rw-r--r-- 0 ./etc/.wh.gone-too',
      '-rw-r--r-- 6 ./etc/hello',
      'drwxr-xr-x 0 ./srv/',
      'drwxr-xr-x 0 ./srv/old/',
      '-rw-r--r-- 0 ./srv/old/.wh..wh..opq',
      '-rw-r--r-- 4 ./srv/old/new',
    ], 'the layer as OCI runtimes read it');
    const source = sh(layerTarArgv(upper!, { overlay: true }));
    assert.ok(source.includes('SCHILY.xattr.trusted.overlay.opaque=y'), 'the kernel marked srv/old opaque, and tar read the mark');
    assert.ok(!tar.includes('trusted.overlay'), 'no overlayfs attribute is left in the layer');
    assert.equal(layer.diffId, `sha256:${createHash('sha256').update(tar).digest('hex')}`, 'diff_id is the digest of the uncompressed tar');
  });

  test('the rewriter gives the same bytes however its input is cut into chunks', { skip }, () => {
    const source = sh(layerTarArgv(upper!, { overlay: true }));
    const whole = new WhiteoutRewriter();
    const once = Buffer.concat([...whole.push(source), ...whole.end()]);
    assert.deepEqual(whole.converted, { whiteouts: 3, opaque: 1 }, 'three whiteouts and one opaque directory converted');
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 40 }), (cuts) => {
      const r = new WhiteoutRewriter();
      const out: Buffer[] = [];
      let at = 0;
      for (let i = 0; at < source.length; i++) {
        const n = cuts[i % cuts.length]!;
        out.push(...r.push(source.subarray(at, at + n)));
        at += n;
      }
      out.push(...r.end());
      return Buffer.concat(out).equals(once);
    }), { numRuns: 30 });
  });

  test('a layer of the same tree has the same digest, whatever reading it did to access times', { skip }, async () => {
    const blobs = join(work, 'blobs-b');
    mkdirSync(blobs);
    const first = await writeLayerBlob(upper!, blobs, { overlay: true });
    utimesSync(join(upper!, 'etc/hello'), new Date(), new Date('2020-01-01T00:00:00Z'));
    const changed = await writeLayerBlob(upper!, blobs, { overlay: true });
    assert.notEqual(changed.diffId, first.diffId, 'a changed mtime is a changed layer');
    utimesSync(join(upper!, 'etc/hello'), new Date('2001-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
    const again = await writeLayerBlob(upper!, blobs, { overlay: true });
    assert.deepEqual(again, changed, 'only the access time differs: the same blob and diff_id');
  });
});

test('a tar stream that ends inside an entry is refused', () => {
  const dir = join(work, 'plain');
  mkdirSync(dir);
  writeFileSync(join(dir, 'f'), 'x'.repeat(2000));
  const source = sh(layerTarArgv(dir));
  const r = new WhiteoutRewriter();
  r.push(source.subarray(0, source.indexOf(Buffer.from('xxxx')) + 100));
  assert.throws(() => r.end(), /ended inside an entry/);
});

test('a tree without overlay marks passes through byte for byte', () => {
  const dir = join(work, 'plain2');
  mkdirSync(join(dir, 'usr/bin'), { recursive: true });
  writeFileSync(join(dir, 'usr/bin/tool'), '#!/bin/sh\n', { mode: 0o755 });
  const source = sh(layerTarArgv(dir));
  const r = new WhiteoutRewriter();
  assert.ok(Buffer.concat([...r.push(source), ...r.end()]).equals(source), 'unchanged');
});

test('pax records read back as written, their length prefix counting its own digits', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z.]{1,30}$/), fc.string({ maxLength: 200 })), { maxLength: 8 }), (records) => {
    const text = encodePax(records);
    for (let at = 0; at < text.length;) {
      const space = text.indexOf(0x20, at);
      const length = Number(text.subarray(at, space).toString('ascii'));
      assert.equal(text[at + length - 1], 0x0a, 'each record ends where its length says');
      at += length;
    }
    assert.deepEqual(parsePax(text), records);
  }), { numRuns: 200 });
});
