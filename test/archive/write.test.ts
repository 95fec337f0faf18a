import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, show } from '../helpers/assert-values.js';
import { CHECKPOINT_BYTES, TAR_COMPRESSION, archiveArgv, archiveTools } from '../../src/archive/write.js';
import { ARCHIVE_FORMATS, type ArchiveFormat } from '../../src/targets/types.js';

const OUT = '/srv/out/web1.archive';
const CWD = '/var/lib/vmgen/build/web1';
const ENTRIES = ['config', 'rootfs', 'fstab'];

const TAR_HEAD = ['tar', '--numeric-owner', '--xattrs', '--xattrs-include=security.capability'];
const TAR_TAIL = ['--record-size=1048576', '--checkpoint=10', '--checkpoint-action=echo=vmgen-checkpoint', '-C', CWD, '-cf', OUT, '--', ...ENTRIES];

describe('archiveArgv', () => {
  const cases: ReadonlyArray<readonly [ArchiveFormat, string[]]> = [
    ['tar.zst', [...TAR_HEAD, '-I', 'zstd -T0 -3 -q', ...TAR_TAIL]],
    ['tar.gz', [...TAR_HEAD, '-z', ...TAR_TAIL]],
    ['tar', [...TAR_HEAD, ...TAR_TAIL]],
    ['zip', ['zip', '-q', '-r', '-y', OUT, '--', ...ENTRIES]],
    ['ova', ['tar', '--format=ustar', '--owner=0', '--group=0', '--numeric-owner', '-C', CWD, '-cf', OUT, '--', ...ENTRIES]],
    ['image.tar', ['tar', '--owner=0', '--group=0', '--numeric-owner', '-C', CWD, '-cf', OUT, '--', ...ENTRIES]],
    // A Vagrant box is the tar.gz `vagrant package` writes.
    ['box', [...TAR_HEAD, '-z', ...TAR_TAIL]],
  ];

  for (const [format, expected] of cases) {
    it(`packs ${format}`, () => assert.deepEqual(archiveArgv(format, OUT, CWD, ENTRIES), expected));
  }

  it('covers every archive format a target can ask for', () => {
    assert.deepEqual(cases.map(([f]) => f).sort(), [...ARCHIVE_FORMATS].sort());
  });

  it('checkpoints tar every CHECKPOINT_BYTES, counted in 1 MiB records', () => {
    includesAll(archiveArgv('tar', OUT, CWD, ENTRIES), ['--record-size=1048576', `--checkpoint=${CHECKPOINT_BYTES / 1048576}`]);
    assert.equal(CHECKPOINT_BYTES % 1048576, 0);
  });

  for (const format of ARCHIVE_FORMATS) {
    it(`${format}: entries follow '--', so a name like -rf is never an option`, () => {
      const entries = ['-rf', '--to-command=sh', 'a b'];
      const argv = archiveArgv(format, OUT, CWD, entries);
      const dashes = argv.indexOf('--');
      assert.ok(dashes > 0, `'--' at ${dashes} in ${show(argv)}`);
      assert.deepEqual(argv.slice(dashes + 1), entries);
      assert.equal(argv.filter((a) => a === '--').length, 1);
    });
  }

  // An OVA holds only a descriptor, a manifest and disk images, an LXC image two tarballs: no owners or capabilities to keep.
  for (const format of ARCHIVE_FORMATS.filter((f) => f !== 'zip' && f !== 'ova' && f !== 'image.tar')) {
    it(`${format}: keeps numeric owners and capabilities, works from -C cwd`, () => {
      const argv = archiveArgv(format, OUT, CWD, ENTRIES);
      includesAll(argv, ['--numeric-owner', '--xattrs', '--xattrs-include=security.capability']);
      assert.equal(argv[argv.indexOf('-C') + 1], CWD);
      assert.equal(argv[argv.indexOf('-cf') + 1], OUT);
      assert.ok(argv.indexOf('-C') < argv.indexOf('--'), `-C after '--' in ${show(argv)}`);
    });
  }

  it('ova is ustar, keeps the order of its members, and records root as owner', () => {
    const argv = archiveArgv('ova', OUT, CWD, ['web1.ovf', 'web1.mf', 'web1-hdd0.vmdk']);
    includesAll(argv, ['--format=ustar']);
    assert.deepEqual(argv.slice(-3), ['web1.ovf', 'web1.mf', 'web1-hdd0.vmdk']);
  });

  it('tar.xz, the inside of an LXC image, compresses with xz: lxc-local unpacks with tar -J', () => {
    const argv = archiveArgv('tar.xz', OUT, CWD, ['.']);
    assert.equal(argv[argv.indexOf('-I') + 1]?.split(' ')[0], 'xz');
    assert.deepEqual(archiveTools('tar.xz'), ['tar', 'xz']);
  });

  it('names the compressor each format runs, which no argv names', () => {
    assert.deepEqual(archiveTools('tar.zst'), ['tar', 'zstd']);
    assert.deepEqual(archiveTools('tar.gz'), ['tar', 'gzip']);
    assert.deepEqual(archiveTools('tar'), ['tar']);
    assert.deepEqual(archiveTools('zip'), ['zip']);
    assert.deepEqual(archiveTools('box'), ['tar', 'gzip']);
    for (const [format, { flags, tools }] of Object.entries(TAR_COMPRESSION)) {
      const program = flags[0] === '-I' ? flags[1]!.split(' ')[0] : flags[0] === '-z' ? 'gzip' : undefined;
      assert.deepEqual(tools, program === undefined ? [] : [program], `${format}: the tools name the program its flags start`);
    }
  });

  it('zip stores symbolic links as links (-y)', () => {
    includesAll(archiveArgv('zip', OUT, CWD, ENTRIES), ['-y']);
  });
});
