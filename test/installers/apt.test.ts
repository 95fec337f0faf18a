import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, includesNone, noItem } from '../helpers/assert-values.js';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOs, loadCatalogs } from '../../src/catalog/load.js';
import { VmgenError } from '../../src/errors.js';
import { aptInstallArgv, classifyAptFailure, mmdebstrapArgv, stageSetupFiles } from '../../src/installers/apt/index.js';
import type { LayerSource } from '../../src/installers/types.js';

const catalogs = loadCatalogs({ env: {} });
const debian12 = findOs(catalogs, 'debian12-64')!;
const MIRROR = 'http://mirror.example/debian';
const LIBEXEC = '/opt/vmgen/libexec/';
const LIBEXEC_DIR = fileURLToPath(new URL('../../libexec/', import.meta.url));
const UNSHARE = ['unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--'];

const layer = (packages: string[]): LayerSource => ({ os: debian12, mirror: MIRROR, packages });

describe('mmdebstrapArgv', () => {
  const argv = mmdebstrapArgv(layer(['vim', 'apache2', 'git']), '/var/cache/vmgen/layer/rootfs', LIBEXEC);

  it('runs mmdebstrap in its own mount and PID namespace, killed with vmgen', () => {
    assert.deepEqual(argv.slice(0, UNSHARE.length), UNSHARE);
    assert.equal(argv[UNSHARE.length], 'mmdebstrap');
  });

  it('is the whole command line, argument by argument', () => {
    assert.deepEqual(argv, [
      ...UNSHARE,
      'mmdebstrap', '--mode=root', '--variant=minbase', '--arch=amd64', '--components=main',
      '--include=apache2,git,vim',
      '--aptopt=APT::Install-Recommends "false"', '--aptopt=Acquire::Retries "3"',
      `--setup-hook=${LIBEXEC}debs-in`, `--customize-hook=${LIBEXEC}debs-out`,
      '--skip=download/empty', '--skip=essential/unlink',
      'bookworm', '/var/cache/vmgen/layer/rootfs', MIRROR,
    ]);
  });

  it('ends with suite, rootfs and mirror', () => {
    assert.deepEqual(argv.slice(-3), ['bookworm', '/var/cache/vmgen/layer/rootfs', MIRROR]);
  });

  it('sorts the packages without changing the caller\'s list', () => {
    const packages = ['zsh', 'curl', 'bash'];
    const a = mmdebstrapArgv(layer(packages), '/r', LIBEXEC);
    includesAll(a, ['--include=bash,curl,zsh']);
    assert.deepEqual(packages, ['zsh', 'curl', 'bash']);
    assert.deepEqual(mmdebstrapArgv(layer(['curl', 'zsh', 'bash']), '/r', LIBEXEC), a);
  });

  it('leaves --include out when the layer adds no packages', () => {
    noItem(mmdebstrapArgv(layer([]), '/r', LIBEXEC), (a) => a.startsWith('--include'));
  });

  it('keeps every value one argument: no shell ever reads the package list or the paths', () => {
    const hostile = ['vim; rm -rf /', '$(reboot)'];
    const rootfs = '/tmp/a dir with spaces/rootfs';
    const a = mmdebstrapArgv(layer(hostile), rootfs, LIBEXEC);
    assert.equal(a.length, argv.length);
    includesAll(a, ['--include=$(reboot),vim; rm -rf /']);
    assert.equal(a.at(-2), rootfs);
    includesNone(a, ['sh', 'bash', '-c']);
  });

  it('uses the hooks shipped in libexec/ by default', () => {
    const a = mmdebstrapArgv(layer([]), '/r');
    const hooks = a.filter((x) => x.startsWith('--setup-hook=') || x.startsWith('--customize-hook=')).map((x) => x.slice(x.indexOf('=') + 1));
    assert.equal(hooks.length, 2);
    for (const hook of hooks) assert.ok(existsSync(hook), `${hook} exists`);
  });

  it('refuses an OS that has no apt suite', () => {
    assert.throws(() => mmdebstrapArgv({ os: findOs(catalogs, 'fedora42-64')!, mirror: MIRROR, packages: [] }, '/r', LIBEXEC), /no apt suite/);
  });
});

describe('aptInstallArgv', () => {
  it('runs the apt-install helper in its own namespaces, one argument per package', () => {
    assert.deepEqual(aptInstallArgv('/var/lib/vmgen/root fs', ['vim', 'git; reboot'], LIBEXEC), [
      ...UNSHARE, `${LIBEXEC}apt-install`, '/var/lib/vmgen/root fs', 'vim', 'git; reboot',
    ]);
  });

  it('uses the helper shipped in libexec/ by default', () => {
    assert.equal(existsSync(aptInstallArgv('/r', [])[UNSHARE.length]!), true, aptInstallArgv('/r', [])[UNSHARE.length]);
  });
});

describe('classifyAptFailure', () => {
  const source = layer(['apache2', 'nosuchpkg']);

  /** Asserts `stderr` classifies as `code`, with a message holding every fragment and a hint. */
  function classifies(stderr: string, code: string, ...fragments: string[]): VmgenError {
    const err = classifyAptFailure(stderr, source);
    assert.ok(err instanceof VmgenError, `expected a ${code} error`);
    assert.equal(err.code, code);
    for (const f of fragments) assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
    assert.ok(err.hint, 'expected a hint');
    return err;
  }

  it('names a package apt cannot find (mmdebstrap --include)', () => {
    const stderr = [
      'I: automatically chosen format: directory',
      'I: running apt-get update...',
      'done',
      'I: downloading packages with apt...',
      'E: Unable to locate package nosuchpkg',
      'E: apt-get --yes -oApt::Get::Download-Only=true install failed',
      'E: setup failed: E: apt-get --yes -oApt::Get::Download-Only=true install failed',
    ].join('\n');
    const err = classifies(stderr, 'VMG_PACKAGE', 'nosuchpkg', MIRROR, 'bookworm');
    assert.doesNotMatch(err.message, /apache2/);
  });

  it('names each missing package once, including ones with no installation candidate', () => {
    const stderr = [
      'Reading package lists...',
      'Package libfoo1 is not available, but is referred to by another package.',
      "E: Package 'libfoo1' has no installation candidate",
      'E: Unable to locate package nosuchpkg',
      'E: Unable to locate package nosuchpkg',
    ].join('\n');
    const err = classifies(stderr, 'VMG_PACKAGE', 'libfoo1', 'nosuchpkg');
    assert.equal(err.message.split('nosuchpkg').length, 2);
  });

  it('blames the mirror and the suite when apt cannot reach the mirror', () => {
    const stderr = [
      'I: running apt-get update...',
      'Err:1 http://mirror.example/debian bookworm InRelease',
      "  Temporary failure resolving 'mirror.example'",
      "E: Failed to fetch http://mirror.example/debian/dists/bookworm/InRelease  Could not resolve 'mirror.example'",
      'E: Some index files failed to download. They have been ignored, or old ones used instead.',
      'E: apt-get update -oAPT::Status-Fd=<$fd> -oDpkg::Use-Pty=false failed',
    ].join('\n');
    classifies(stderr, 'VMG_MIRROR', MIRROR, 'bookworm');
  });

  it('blames the mirror for a suite it does not serve', () => {
    const stderr = "E: The repository 'http://mirror.example/debian bookworm Release' does not have a Release file.";
    classifies(stderr, 'VMG_MIRROR', MIRROR, 'bookworm');
  });

  it('reports a full disk', () => {
    const stderr = [
      'Unpacking libc6:amd64 (2.36-9+deb12u7) ...',
      "dpkg: error processing archive /var/cache/apt/archives/libc6_2.36-9+deb12u7_amd64.deb (--unpack):",
      " cannot copy extracted data for './usr/lib/x86_64-linux-gnu/libc.so.6' to '/usr/lib/x86_64-linux-gnu/libc.so.6.dpkg-new': failed to write (No space left on device)",
      'E: Sub-process /usr/bin/dpkg returned an error code (1)',
    ].join('\n');
    classifies(stderr, 'VMG_DISK_FULL', 'no space left');
  });

  it('leaves other failures unclassified', () => {
    assert.equal(classifyAptFailure('', source), undefined);
    assert.equal(classifyAptFailure('E: Sub-process /usr/bin/dpkg returned an error code (1)', source), undefined);
    assert.equal(classifyAptFailure('E: mmdebstrap: unshare: operation not permitted', source), undefined);
  });
});

describe('setup files reach the new root without changing its mode', () => {
  it('files-in copies the staged files and leaves / (and /etc) 0755, whatever the umask', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vmgen-files-root-'));
    const old = process.umask(0o077);
    let staged: string | undefined;
    try {
      chmodSync(root, 0o755);
      mkdirSync(join(root, 'etc'), { mode: 0o755 });
      chmodSync(join(root, 'etc'), 0o755);
      staged = await stageSetupFiles([{ path: '/etc/initramfs-tools/modules', content: 'virtio_blk\n', mode: 0o644 }]);
      assert.ok(staged, 'the files are staged');
      const r = spawnSync(join(LIBEXEC_DIR, 'files-in'), [root], { env: { ...process.env, VMGEN_FILES: staged }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(join(root, 'etc/initramfs-tools/modules'), 'utf8'), 'virtio_blk\n');
      const mode = (p: string): string => (statSync(join(root, p)).mode & 0o777).toString(8);
      assert.deepEqual([mode('.'), mode('etc'), mode('etc/initramfs-tools'), mode('etc/initramfs-tools/modules')], ['755', '755', '755', '644']);
    } finally {
      process.umask(old);
      rmSync(root, { recursive: true, force: true });
      if (staged) rmSync(staged, { recursive: true, force: true });
    }
  });
});
