import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import fc from 'fast-check';
import { resolveInRoot } from '../../src/communicators/rootfs-path.js';

/*
 * A small guest root with the links that try to lead outside it:
 *   /etc/passwd            a file
 *   /etc/x        -> /etc/passwd          absolute, must stay in the root
 *   /etc/dangling -> /nonexistent/file    absolute, to a missing file
 *   /link-up      -> ../../../../etc       relative, climbs above the root
 *   /link-abs     -> /a
 *   /a/link-abs   -> /b      /a/link-up -> ../../../etc
 *   /b/link-abs   -> /etc/x  /b/link-up -> ../..
 *   /loop1 -> loop2, /loop2 -> /loop1
 */
const root = realpathSync(mkdtempSync(join(tmpdir(), 'vmgen-rootfs-')));
after(() => rmSync(root, { recursive: true, force: true }));

for (const dir of ['etc', 'a', 'b']) mkdirSync(join(root, dir));
writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
const links: Array<[string, string]> = [
  ['etc/x', '/etc/passwd'],
  ['etc/dangling', '/nonexistent/file'],
  ['link-up', '../../../../etc'],
  ['link-abs', '/a'],
  ['a/link-abs', '/b'],
  ['a/link-up', '../../../etc'],
  ['b/link-abs', '/etc/x'],
  ['b/link-up', '../..'],
  ['loop1', 'loop2'],
  ['loop2', '/loop1'],
];
for (const [path, target] of links) symlinkSync(target, join(root, path));

const inRoot = (...parts: string[]): string => join(root, ...parts);

describe('resolveInRoot', () => {
  it('maps a plain path below the root', () => {
    assert.equal(resolveInRoot(root, '/etc/passwd'), inRoot('etc', 'passwd'));
    assert.equal(resolveInRoot(root, '/'), root);
    assert.equal(resolveInRoot(root, '//etc/./passwd/'), inRoot('etc', 'passwd'));
  });

  it('starts an absolute link target again at the root, not at the host\'s /', () => {
    assert.equal(resolveInRoot(root, '/etc/x'), inRoot('etc', 'passwd'));
    assert.equal(resolveInRoot(root, '/b/link-abs'), inRoot('etc', 'passwd'));
    assert.equal(resolveInRoot(root, '/etc/dangling'), inRoot('nonexistent', 'file'));
  });

  it('keeps a relative link that climbs too far under the root', () => {
    assert.equal(resolveInRoot(root, '/link-up/passwd'), inRoot('etc', 'passwd'));
    assert.equal(resolveInRoot(root, '/a/link-up/x'), inRoot('etc', 'passwd'));
    assert.equal(resolveInRoot(root, '/b/link-up'), root);
  });

  it('clamps .. at the root', () => {
    assert.equal(resolveInRoot(root, '/../../../etc/passwd'), inRoot('etc', 'passwd'));
    assert.equal(resolveInRoot(root, '/a/../../..'), root);
    assert.equal(resolveInRoot(root, '/a/b/../c'), inRoot('a', 'c'));
  });

  it('follows links in the middle of a path the way the guest would', () => {
    assert.equal(resolveInRoot(root, '/link-abs/link-abs/link-abs'), inRoot('etc', 'passwd'));
    // ".." after a link applies to the link's target, not to the link's directory.
    assert.equal(resolveInRoot(root, '/etc/x/../shadow'), inRoot('etc', 'shadow'));
  });

  it('keeps the last link itself when followLast is false, following the links before it', () => {
    assert.equal(resolveInRoot(root, '/etc/x', false), inRoot('etc', 'x'));
    assert.equal(resolveInRoot(root, '/link-abs/link-abs', false), inRoot('a', 'link-abs'));
  });

  it('creates nothing: missing components simply stay in the path', () => {
    assert.equal(resolveInRoot(root, '/new/dir/file'), inRoot('new', 'dir', 'file'));
  });

  it('throws on a link loop', () => {
    assert.throws(() => resolveInRoot(root, '/loop1'), /too many symbolic links/);
    assert.throws(() => resolveInRoot(root, '/loop2/x', false), /too many symbolic links/);
    assert.equal(resolveInRoot(root, '/loop1', false), inRoot('loop1'));
  });

  it('refuses relative paths and NUL bytes', () => {
    for (const p of ['etc/passwd', '', './etc', '../etc']) assert.throws(() => resolveInRoot(root, p), /must be absolute/);
    assert.throws(() => resolveInRoot(root, '/etc/\0passwd'), /NUL/);
  });

  it('never leaves the root, whatever the path (property)', () => {
    const segment = fc.constantFrom('..', '.', 'a', 'b', 'link-abs', 'link-up', '');
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 12 }), fc.boolean(), (segments, followLast) => {
        const result = resolveInRoot(root, `/${segments.join('/')}`, followLast);
        return result === root || result.startsWith(root + sep);
      }),
      { numRuns: 500 },
    );
  });
});
