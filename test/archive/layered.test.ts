import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { layerParts } from '../../src/archive/layer-parts.js';
import {
  buildPartList, buildPartTarArgv, layerPartApplies, layerPartTarArgv, MAX_EXCLUSIONS, splitDelta, writeJoinedArchive, writeLayerPart,
} from '../../src/archive/layered.js';
import { packLayered, prepareLayered } from '../../src/targets/layered-package.js';
import type { PackageContext } from '../../src/targets/types.js';
import { headerSize, paxSize, TarEndStrip } from '../../src/archive/tar-end.js';
import { TAR_COMPRESSION, writeArchive, type TarFormat } from '../../src/archive/write.js';
import { layerKey, type LayerKeyParts } from '../../src/cache/key.js';
import { LayerCache } from '../../src/cache/store.js';
import { readOverlayDelta, type OverlayDelta } from '../../src/disks/overlay-delta.js';
import { run } from '../../src/exec/run.js';
import { spawnStream } from '../../src/exec/stream.js';
import { mountLayer, type MountedRootfs } from '../../src/layers/mount.js';
import { configure, fakeLayer } from '../helpers/overlay-fixture.js';

/** Every entry below `root`: kind, mode, owner, and a file's bytes or a link's target; inode numbers tell hard links apart. */
function treeOf(root: string): string[] {
  const out: string[] = [];
  const inodes = new Map<number, string>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(root, path));
      const what = st.isDirectory() ? 'dir'
        : st.isSymbolicLink() ? `link ${readlinkSync(join(root, path))}`
          : st.isFile() ? `file ${createHash('sha256').update(readFileSync(join(root, path))).digest('hex').slice(0, 16)}`
            : 'other';
      const linked = st.isFile() && st.nlink > 1 ? ` linked with ${inodes.get(st.ino) ?? 'the first'}` : '';
      if (st.isFile() && st.nlink > 1 && !inodes.has(st.ino)) inodes.set(st.ino, path);
      out.push(`${path} ${what} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}${linked}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return out;
}

/** tar's output for `dir`'s `entries`, as bytes. */
async function tarBytes(argv: [string, ...string[]]): Promise<Buffer> {
  const p = spawnStream(argv);
  p.stdin.end();
  const chunks: Buffer[] = [];
  p.stdout.on('data', (c: Buffer) => chunks.push(c));
  await p.done;
  return Buffer.concat(chunks);
}

async function stripped(bytes: Buffer, chunk = 7919): Promise<Buffer> {
  const strip = new TarEndStrip();
  const out: Buffer[] = [];
  strip.on('data', (c: Buffer) => out.push(c));
  const finished = new Promise<void>((resolve, reject) => {
    strip.on('end', resolve);
    strip.on('error', reject);
  });
  // Odd chunk sizes: headers and pax records split across writes.
  for (let at = 0; at < bytes.length; at += chunk) strip.write(bytes.subarray(at, at + chunk));
  strip.end();
  strip.resume();
  await finished;
  return Buffer.concat(out);
}

describe('TarEndStrip', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-tar-end-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(() => {
    mkdirSync(join(dir, 'a/empty'), { recursive: true });
    // A member whose last data blocks are zeros, like the end of the archive.
    writeFileSync(join(dir, 'a/zeros'), Buffer.concat([Buffer.from('x'), Buffer.alloc(5000)]));
    writeFileSync(join(dir, 'a/big'), Buffer.alloc(30_000, 7));
    writeFileSync(join(dir, 'a/empty-file'), '');
    // Past ustar's 100 characters: a pax record (posix) or a GNU long-name member (gnu) before it.
    const long = `a/${'d'.repeat(90)}/${'f'.repeat(90)}`;
    mkdirSync(join(dir, long, '..'), { recursive: true });
    writeFileSync(join(dir, long), 'long');
    symlinkSync(`../${'t'.repeat(120)}`, join(dir, 'a/long-link'));
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'b/after'), 'the second part');
  });

  // 10 KiB is tar's own record; 1 MiB is what vmgen's archives are written with (CHECKPOINT_FLAGS).
  for (const [format, record] of [['posix', 10240], ['gnu', 10240], ['posix', 1048576], ['gnu', 1048576]] as const) {
    it(`drops only the end of a ${format} tar in ${record}-byte records, so another tar can follow it`, async () => {
      const first = await tarBytes(['tar', `--format=${format}`, `--record-size=${record}`, '-C', dir, '-cf', '-', 'a']);
      const second = await tarBytes(['tar', `--format=${format}`, '-C', dir, '-cf', '-', 'b']);
      const head = await stripped(first);
      assert.ok(head.length < first.length && head.length % 512 === 0, `the end is dropped on a block boundary (${head.length} of ${first.length})`);
      assert.ok(first.subarray(head.length).every((b) => b === 0), 'what is dropped is zeros');
      const out = join(dir, `out-${format}-${record}`);
      mkdirSync(out);
      await run(['tar', '-xf', '-', '-C', out], { input: Buffer.concat([head, second]) });
      assert.deepEqual(treeOf(join(out, 'a')), treeOf(join(dir, 'a')), 'the first part unpacks whole');
      assert.equal(readFileSync(join(out, 'b/after'), 'utf8'), 'the second part', 'the members after it are read');
    });
  }

  it('fails on a tar without its end (a truncated stream)', async () => {
    const whole = await tarBytes(['tar', '-C', dir, '-cf', '-', 'b']);
    await assert.rejects(stripped(whole.subarray(0, 1024)), /without its end-of-archive/);
  });

  it('reads sizes in octal and in GNU\'s base-256, and pax size records', () => {
    const header = Buffer.alloc(512);
    header.write('00000001750\0', 124, 'latin1');
    assert.equal(headerSize(header), 0o1750);
    header.fill(0, 124, 136);
    header[124] = 0x80;
    header.writeUIntBE(10 * 2 ** 30, 130, 6);
    assert.equal(headerSize(header), 10 * 2 ** 30);
    assert.equal(paxSize(Buffer.from('30 mtime=1749000000.123456789\n20 size=10737418240\n')), 10737418240);
    assert.equal(paxSize(Buffer.from('12 path=abc\n')), undefined);
  });
});

describe('layer part and build part argv', () => {
  it('leaves the deleted paths out of the layer part, literally and from the root', () => {
    assert.deepEqual(layerPartTarArgv({ layerRootfs: '/c/layers/packages-1/rootfs', exclude: ['etc/ssh/ssh_host_rsa_key', 'srv/a*'] }), [
      'tar', '--numeric-owner', '--xattrs', '--xattrs-include=security.capability',
      '--record-size=1048576', '--checkpoint=10', '--checkpoint-action=echo=vmgen-checkpoint',
      '--anchored', '--no-wildcards', '--exclude=rootfs/etc/ssh/ssh_host_rsa_key', '--exclude=rootfs/srv/a*',
      '-C', '/c/layers/packages-1', '-cf', '-', '--', 'rootfs',
    ]);
  });

  it('packs the top-level files whole and exactly the listed upper entries, renamed below the root', () => {
    assert.deepEqual(buildPartTarArgv({ dir: '/w/stage', names: ['config', 'fstab'] }, '/w/upper', 'rootfs'), [
      'tar', '--numeric-owner', '--xattrs', '--xattrs-include=security.capability', '-cf', '-',
      '-C', '/w/stage', 'config', 'fstab',
      '--no-recursion', '-C', '/w/upper', '--transform=s,^\\./,rootfs/,S', '--null', '--no-unquote', '--verbatim-files-from', '-T', '-',
    ]);
    assert.equal(buildPartList(['etc', 'etc/host name']), './etc\0./etc/host name\0');
    assert.deepEqual(buildPartTarArgv({ dir: '/w/stage', names: ['config'] }, '/w/upper', 'rootfs', ['etc']).slice(6, 10), ['-C', '/w/stage', 'config', 'rootfs/etc'],
      'a directory carried whole comes from the configured root, with what is below it');
    assert.throws(() => buildPartTarArgv({ dir: '/w', names: ['--to-command=x'] }, '/u', 'rootfs'), /cannot be a top-level archive entry/);
  });

  it('splits a build\'s changes: the whole directories and what was deleted or replaced elsewhere leave the layer\'s part', () => {
    const delta = {
      deletions: ['etc/ssh/ssh_host_rsa_key', 'srv/gone'], overwritten: ['etc/hostname', 'var/www/html/index.html'],
      copies: ['etc', 'etc/hostname', 'etcetera', 'home', 'home/ana', 'var', 'var/www', 'var/www/html', 'var/www/html/index.html'],
    };
    assert.deepEqual(splitDelta(delta, ['etc']), {
      exclude: ['etc', 'srv/gone', 'var/www/html/index.html'],
      copies: ['etcetera', 'home', 'home/ana', 'var', 'var/www', 'var/www/html', 'var/www/html/index.html'],
    });
    assert.deepEqual(splitDelta(delta, []).exclude, [...delta.deletions, ...delta.overwritten]);
  });

  it('applies to tar formats whose parts can be joined, with the cache\'s root name, up to a limit of deletions', () => {
    const req = { layerRootfs: '/c/layers/k/rootfs', rootName: 'rootfs', exclude: [] as string[] };
    for (const format of Object.keys(TAR_COMPRESSION) as TarFormat[]) assert.equal(layerPartApplies({ ...req, format }), true, format);
    assert.equal(layerPartApplies({ ...req, format: 'image.tar' as TarFormat }), false, 'an LXC image holds two tarballs');
    assert.equal(layerPartApplies({ ...req, format: 'tar.zst', rootName: 'private' }), false);
    assert.equal(layerPartApplies({ ...req, format: 'tar.zst', exclude: Array.from({ length: MAX_EXCLUSIONS + 1 }, (_, i) => `f${i}`) }), false);
  });
});

const notRoot = process.getuid?.() !== 0 ? 'needs root (an overlay mount, owners)' : false;

/** More than the disk fixture: a symlink over a symlink, one name of a hard-linked pair rewritten, names glob characters match. */
function layerExtras(root: string): void {
  symlinkSync('/usr/share/zoneinfo/Etc/UTC', join(root, 'etc/localtime'));
  writeFileSync(join(root, 'etc/pair-a'), 'linked');
  linkSync(join(root, 'etc/pair-a'), join(root, 'etc/pair-b'));
  writeFileSync(join(root, 'srv/a*'), 'star');
  writeFileSync(join(root, 'srv/ab'), 'kept');
}

function configureExtras(merged: string): void {
  unlinkSync(join(merged, 'etc/localtime'));
  symlinkSync('/usr/share/zoneinfo/Europe/Bucharest', join(merged, 'etc/localtime'));
  writeFileSync(join(merged, 'etc/pair-a'), 'rewritten');
  unlinkSync(join(merged, 'srv/a*'));
}

describe('an LXC-style archive joined from a cached layer part and a build\'s own part', { skip: notRoot }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-layered-'));
  const cache = new LayerCache(join(dir, 'cache'));
  const parts: LayerKeyParts = { distribution: 'debian', release: '12', suite: 'bookworm', arch: 'amd64', mirror: 'http://mirror.example/debian', packages: ['fake'], variant: 'minbase', recipe: 1 };
  const key = layerKey('packages', parts);
  const stage = join(dir, 'stage');
  const signal = new AbortController().signal;
  let lower = '';
  let mounted: MountedRootfs | undefined;
  let delta: OverlayDelta;

  before(async () => {
    const filled = await cache.fill(key, { kind: 'packages', parts }, async (rootfs) => {
      fakeLayer(rootfs);
      layerExtras(rootfs);
    });
    lower = filled.layer.rootfs;
    mkdirSync(stage);
    writeFileSync(join(stage, 'config'), 'lxc.uts.name = web1\n');
    mounted = await mountLayer(lower, join(dir, 'work'), join(stage, 'rootfs'));
    assert.equal(mounted.how, 'overlay');
    configure(mounted.path);
    configureExtras(mounted.path);
    delta = await readOverlayDelta({ upper: mounted.upper!, lower, merged: mounted.path });
  });
  after(async () => {
    await mounted?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads which of the upper directory\'s files replace one of the layer\'s', () => {
    assert.deepEqual(delta.overwritten.sort(), ['etc/fstab', 'etc/hostname', 'etc/localtime', 'etc/pair-a']);
    assert.ok(delta.deletions.includes('srv/a*'), 'a deleted name with a glob character');
  });

  for (const format of ['tar.zst', 'tar.gz', 'tar'] as const) {
    it(`${format}: unpacks to exactly what packing the configured root whole gives, with no file twice`, async () => {
      const lp = layerParts(cache);
      const logs: string[] = [];
      const req = { layerKey: key, layerRootfs: lower, format, rootName: 'rootfs', exclude: [...delta.deletions, ...delta.overwritten] };
      const made = await lp.ensure(req, { signal, log: (l) => logs.push(l) });
      assert.equal(made.made, true, 'the first build packs the layer part');
      const again = await layerParts(cache).ensure({ ...req, exclude: [...req.exclude].reverse() }, { signal, log: (l) => logs.push(l) });
      assert.deepEqual(again, { path: made.path, made: false }, 'the next build (another driver) with the same deletions finds it, in whatever order they come');
      const other = await lp.ensure({ ...req, exclude: req.exclude.slice(1) }, { signal, log: () => {} });
      assert.notEqual(other.path, made.path, 'other deletions, another part');

      const joined = join(dir, `joined.${format}`);
      await writeJoinedArchive({ layerPart: made.path, format, output: joined, stage: { dir: stage, names: ['config'] }, upper: mounted!.upper!, copies: delta.copies, rootName: 'rootfs', signal });
      const whole = join(dir, `whole.${format}`);
      await writeArchive(format, whole, stage, ['config', 'rootfs']);

      const [a, b] = [join(dir, `x-joined-${format}`), join(dir, `x-whole-${format}`)];
      for (const [archive, to] of [[joined, a], [whole, b]] as const) {
        mkdirSync(to);
        // As the run commands unpack it: plain tar -xf, which finds the compression itself.
        await run(['tar', '--numeric-owner', '-xf', archive, '-C', to]);
      }
      assert.deepEqual(treeOf(a), treeOf(b));
      assert.equal(readlinkSync(join(a, 'rootfs/etc/localtime')), '/usr/share/zoneinfo/Europe/Bucharest', 'the build\'s symlink, not the layer\'s');
      assert.equal(readFileSync(join(a, 'rootfs/etc/pair-b'), 'utf8'), 'linked', 'the other name of the rewritten pair keeps the layer\'s bytes');
      assert.equal(readFileSync(join(a, 'rootfs/srv/ab'), 'utf8'), 'kept', 'leaving out a* leaves ab');

      const names = (await run(['tar', '-tf', joined])).stdout.trim().split('\n');
      const files = names.filter((n) => !n.endsWith('/'));
      assert.deepEqual(files.filter((n, i) => files.indexOf(n) !== i), [], 'no file is in the archive twice');
    });
  }

  it('one build asking twice for a part being packed waits for that packing, and is told it packed it', async () => {
    const lp = layerParts(cache);
    const logs: string[] = [];
    const req = { layerKey: key, layerRootfs: lower, format: 'tar' as const, rootName: 'rootfs', exclude: ['etc', 'var'] };
    const [first, second] = await Promise.all([lp.ensure(req, { signal, log: (l) => logs.push(l) }), lp.ensure(req, { signal, log: (l) => logs.push(l) })]);
    assert.deepEqual(second, first);
    assert.equal(first.made, true);
    assert.equal(logs.length, 1, `packed once: ${logs.join(' | ')}`);
  });

  it('packLayered: the part prepare packed while configuring is the one the archive uses, and a rebuild finds it', async () => {
    const lp = layerParts(cache);
    const logs: string[] = [];
    const log = (l: string): void => {
      logs.push(l);
    };
    await prepareLayered({ layerKey: key, layerRootfs: lower, format: 'tar.zst', layerParts: lp, signal, log });
    const output = join(dir, 'packed.tar.zst');
    const ctx: PackageContext = {
      spec: {} as PackageContext['spec'], options: {}, stageDir: stage, output, format: 'tar.zst', signal, progress: () => {}, log, layerParts: lp,
      base: { layerKey: key, layerRootfs: lower, upper: mounted!.upper! },
    };
    assert.deepEqual(await packLayered(ctx, ['config']), { headApart: false });
    assert.equal(logs.filter((l) => /packed from the layer/.test(l)).length, 2, `the prepared part (/etc left out) and, since this build deleted files outside /etc, its own: ${logs.join(' | ')}`);
    const whole = join(dir, 'packed-whole.tar.zst');
    await writeArchive('tar.zst', whole, stage, ['config', 'rootfs']);
    const [a, b] = [join(dir, 'x-packed'), join(dir, 'x-packed-whole')];
    for (const [archive, to] of [[output, a], [whole, b]] as const) {
      mkdirSync(to);
      await run(['tar', '--numeric-owner', '-xf', archive, '-C', to]);
    }
    assert.deepEqual(treeOf(a), treeOf(b));
    const names = (await run(['tar', '-tf', output])).stdout.trim().split('\n').filter((n) => !n.endsWith('/'));
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], 'no file is in the archive twice');

    logs.length = 0;
    assert.deepEqual(await packLayered({ ...ctx, layerParts: layerParts(cache), output: join(dir, 'again.tar.zst') }, ['config']), { headApart: false });
    assert.ok(logs.some((l) => /: cached, without/.test(l)) && !logs.some((l) => /packed from the layer/.test(l)), `a rebuild packs no layer part: ${logs.join(' | ')}`);
    assert.equal(await packLayered({ ...ctx, base: { layerKey: key, layerRootfs: lower } }, ['config']), undefined, 'a root that is no overlay is packed whole');

    // Kept apart (the service): the cached part is linked, not copied, and the two files joined are the archive.
    const head = join(dir, 'apart.head');
    const rest = join(dir, 'apart.tar.zst');
    assert.deepEqual(await packLayered({ ...ctx, output: rest, headPath: head }, ['config']), { headApart: true });
    const cachedParts = readdirSync(cache.layersDir).map((d) => join(cache.layersDir, d, 'rootfs', 'layer.tar.zst')).filter((f) => existsSync(f));
    assert.ok(cachedParts.some((f) => statSync(f).ino === statSync(head).ino), `the head is one of the cache's parts, linked: ${cachedParts.join(', ')}`);
    assert.ok(statSync(rest).size < statSync(output).size - statSync(head).size / 2, `the rest holds only the build's part: ${statSync(rest).size} of ${statSync(output).size} bytes`);
    assert.deepEqual(readFileSync(output), Buffer.concat([readFileSync(head), readFileSync(rest)]), 'head and rest joined are the archive packed in one');
  });

  it('a part packed while its layer is prepared, with what the preparation writes appended once it ended, is the one a build of that layer takes', async () => {
    const fresh: LayerKeyParts = { ...parts, packages: ['fake', 'locales'] };
    const freshKey = layerKey('packages', fresh);
    const logs: string[] = [];
    const log = (l: string): void => {
      logs.push(l);
    };
    const lp = layerParts(cache);
    const filled = await cache.fill(freshKey, { kind: 'packages', parts: fresh }, async (rootfs, s) => {
      fakeLayer(rootfs);
      mkdirSync(join(rootfs, 'usr/lib/locale/C.utf8'), { recursive: true });
      writeFileSync(join(rootfs, 'usr/lib/locale/C.utf8/LC_CTYPE'), 'builtin');
      let ended!: () => void;
      const prepared = new Promise<void>((resolve) => {
        ended = resolve;
      });
      const packing = prepareLayered({
        layerKey: freshKey, layerRootfs: rootfs, format: 'tar.zst', layerParts: lp, signal: s, log,
        unpublished: { parts: fresh, writes: ['/etc', '/usr/lib/locale/'], prepared },
      });
      // What locale-gen does meanwhile; the part must have it, as it is once the preparation ended.
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(join(rootfs, 'usr/lib/locale/locale-archive'), 'generated');
      writeFileSync(join(rootfs, 'etc/locale.gen'), 'en_US.UTF-8 UTF-8\n');
      ended();
      await packing;
    });
    assert.ok(logs.some((l) => /packed beside the layer's preparation, \/usr\/lib\/locale once it ended/.test(l)), logs.join(' | '));
    logs.length = 0;
    await prepareLayered({ layerKey: freshKey, layerRootfs: filled.layer.rootfs, format: 'tar.zst', layerParts: lp, signal, log });
    assert.ok(logs.some((l) => /packed while the layer was made, without 1 path \(\/etc\)/.test(l)), `the published layer's part is the one packed early: ${logs.join(' | ')}`);
    assert.equal(existsSync(join(filled.layer.rootfs, '../parts')), false, 'and it left the layer\'s directory');
    const part = await lp.ensure({ layerKey: freshKey, layerRootfs: filled.layer.rootfs, format: 'tar.zst', rootName: 'rootfs', exclude: ['etc'] }, { signal, log });
    assert.equal(part.made, true, 'the part a build asks for is that one, made by this build');
    assert.ok(!logs.some((l) => /packed from the layer/.test(l)), `nothing was packed again: ${logs.join(' | ')}`);

    // The same part packed from the published layer in one go unpacks to the same tree.
    const direct = join(dir, 'direct-part.tar.zst');
    await writeLayerPart({ layerKey: freshKey, layerRootfs: filled.layer.rootfs, format: 'tar.zst', rootName: 'rootfs', exclude: ['etc'] }, direct, { signal });
    const [a, b] = [join(dir, 'x-early-part'), join(dir, 'x-direct-part')];
    for (const [archive, to] of [[part.path, a], [direct, b]] as const) {
      mkdirSync(to);
      // A part has no tar end: zstd -dc | tar -x with --ignore-zeros is not needed, tar stops at EOF with a warning only.
      await run(['bash', '-c', 'zstd -dc "$1" | tar --numeric-owner -xf - -C "$2" 2>/dev/null || test -d "$2/rootfs"', 'x', archive, to]);
    }
    assert.deepEqual(treeOf(a), treeOf(b));
    assert.equal(readFileSync(join(a, 'rootfs/usr/lib/locale/locale-archive'), 'utf8'), 'generated', 'the locales as the preparation left them');
    assert.equal(existsSync(join(a, 'rootfs/etc')), false, 'and no /etc, which each build carries');
  });

  it('packs nothing early when the preparation does not end', async () => {
    const fresh: LayerKeyParts = { ...parts, packages: ['fake', 'failing'] };
    const freshKey = layerKey('packages', fresh);
    await assert.rejects(cache.fill(freshKey, { kind: 'packages', parts: fresh }, async (rootfs, s) => {
      fakeLayer(rootfs);
      const failed = Promise.reject(new Error('locale-gen failed'));
      failed.catch(() => {});
      await prepareLayered({
        layerKey: freshKey, layerRootfs: rootfs, format: 'tar.zst', layerParts: layerParts(cache), signal: s, log: () => {},
        unpublished: { parts: fresh, writes: ['/usr/lib/locale'], prepared: failed },
      }).catch(() => {});
      assert.deepEqual(readdirSync(join(rootfs, '../parts')), [], 'no part and no temporary file left');
      throw new Error('the layer failed');
    }), /the layer failed/);
  });

  it('a layer part that fails or is cancelled leaves nothing in the cache', async () => {
    const broken = { layerKey: key, layerRootfs: join(dir, 'no-such/rootfs'), format: 'tar.zst' as const, rootName: 'rootfs', exclude: [] };
    await assert.rejects(writeLayerPart(broken, join(dir, 'part'), { signal }), /tar exited with 2/);
    const before = readdirSync(join(dir, 'cache/layers')).sort();
    const cancelled = new AbortController();
    cancelled.abort(new Error('cancelled by the test'));
    await assert.rejects(layerParts(cache).ensure({ layerKey: key, layerRootfs: lower, format: 'tar.zst', rootName: 'rootfs', exclude: ['var/lib/untouched'] },
      { signal: cancelled.signal, log: () => {} }));
    assert.deepEqual(readdirSync(join(dir, 'cache/layers')).sort(), before, 'no part and no temporary directory was added');
  });
});
