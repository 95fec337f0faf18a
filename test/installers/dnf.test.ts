import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, includesNone, noItem, isInstance } from '../helpers/assert-values.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOs, loadCatalogs } from '../../src/catalog/load.js';
import { VmgenError } from '../../src/errors.js';
import { installerFor } from '../../src/installers/registry.js';
import { IN_ROOT_SCRIPT, classifyDnfFailure, dnfArgv, dnfInstaller, rpmDbPath, type DnfPrivate } from '../../src/installers/dnf/index.js';
import type { LayerSource } from '../../src/installers/types.js';

const catalogs = loadCatalogs({ env: {} });
const fedora = findOs(catalogs, 'fedora42-64')!;
const rocky = findOs(catalogs, 'rocky9-64')!;
const MIRROR = 'http://mirror.example/fedora/releases/42/Everything/x86_64/os';
const PRIV: DnfPrivate = { config: '/tmp/p/dnf.conf', reposDir: '/tmp/p/repos.d', cacheDir: '/var/cache/vmgen/rpms' };
const UNSHARE = ['unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--'];

const layer = (packages: string[], mirror = MIRROR, os = fedora): LayerSource => ({ os, mirror, packages });

describe('dnfArgv', () => {
  const argv = dnfArgv(layer(['systemd', 'httpd', 'NetworkManager']), '/var/cache/vmgen/layer/rootfs', ['systemd', 'httpd', 'NetworkManager'], PRIV);

  it('is the whole command line, argument by argument', () => {
    assert.deepEqual(argv, [
      ...UNSHARE,
      'sh', '-c', IN_ROOT_SCRIPT, 'sh', '/var/cache/vmgen/layer/rootfs',
      'dnf', '--config=/tmp/p/dnf.conf', '--installroot=/var/cache/vmgen/layer/rootfs', '--releasever=42', '--forcearch=x86_64',
      '--noplugins', '--refresh', '-y',
      '--setopt=reposdir=/tmp/p/repos.d', '--setopt=cachedir=/var/cache/vmgen/rpms', '--setopt=keepcache=True',
      '--setopt=install_weak_deps=False',
      `--repofrompath=vmgen,${MIRROR}`, '--setopt=vmgen.skip_if_unavailable=False',
      'install', '--', 'NetworkManager', 'httpd', 'systemd',
    ]);
  });

  it('turns signature checks off only for a repository on this host', () => {
    noItem(argv, (a) => a.includes('gpgcheck'));
    const local = dnfArgv(layer(['systemd'], 'file:///srv/repo'), '/r', ['systemd'], PRIV);
    includesAll(local, ['--setopt=vmgen.gpgcheck=False']);
  });

  it('takes the release from the OS table', () => {
    includesAll(dnfArgv(layer(['bash'], MIRROR, rocky), '/r', ['bash'], PRIV), ['--releasever=9']);
  });

  it('the shell reads only a constant script: the root and the packages are positional parameters', () => {
    const hostile = ['vim; rm -rf /', '$(reboot)'];
    const a = dnfArgv(layer(hostile), '/tmp/a dir/$(x)', hostile, PRIV);
    assert.equal(a[a.indexOf('-c') + 1], IN_ROOT_SCRIPT);
    includesNone(IN_ROOT_SCRIPT, ['$(x)']);
    assert.deepEqual(a.slice(-2), ['$(reboot)', 'vim; rm -rf /']);
    includesAll(a, ['/tmp/a dir/$(x)']);
    // "$@" and "$root" are always quoted in the script, so no value is split or globbed.
    assert.doesNotMatch(IN_ROOT_SCRIPT, /[^"]\$(root|@)[^"]/);
  });

  it('refuses to run with nothing to install', () => {
    assert.throws(() => dnfArgv(layer([]), '/r', [], PRIV), /at least one package/);
  });
});

describe('rpmDbPath', () => {
  it('is where each distribution\'s own rpm looks', () => {
    assert.equal(rpmDbPath(fedora), '/usr/lib/sysimage/rpm');
    assert.equal(rpmDbPath(rocky), '/var/lib/rpm');
    assert.equal(rpmDbPath(findOs(catalogs, 'alma9-64')!), '/var/lib/rpm');
  });

  it('every dnf OS in the table has one', () => {
    for (const os of catalogs.os.filter((o) => o.installer === 'dnf')) assert.doesNotThrow(() => rpmDbPath(os), os.id);
  });
});

describe('classifyDnfFailure (dnf 4.14\'s own messages)', () => {
  const source = layer(['httpd']);
  const code = (text: string): string | undefined => classifyDnfFailure(text, source)?.code;

  it('a missing package is VMG_PACKAGE and names it', () => {
    const e = classifyDnfFailure('No match for argument: emacs\nError: Unable to find a match: emacs nosuch\n', source);
    isInstance(e, VmgenError);
    assert.equal(e.code, 'VMG_PACKAGE');
    assert.match(e.message, /package emacs, nosuch is not in http:\/\/mirror\.example/);
  });

  it('an unreachable or wrong repository is VMG_MIRROR', () => {
    assert.equal(code("Errors during downloading metadata for repository 'vmgen':\n  - Curl error (6): Couldn't resolve host name for http://mirror.example/fedora/repodata/repomd.xml [Could not resolve host: mirror.example]\nError: Failed to download metadata for repo 'vmgen': Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried\n"), 'VMG_MIRROR');
  });

  it('a missing signing key is VMG_MIRROR with a hint about keys', () => {
    const e = classifyDnfFailure('You have enabled checking of packages via GPG keys. This is a good thing.\nHowever, you do not have any GPG public keys installed.\n', source);
    assert.equal(e?.code, 'VMG_MIRROR');
    assert.match(e?.hint ?? '', /key/);
  });

  it('a full disk is VMG_DISK_FULL', () => {
    assert.equal(code('Error: Transaction test error:\n  installing package httpd-2.4.62-1.fc42.x86_64 needs 12MB more space on the / filesystem\n'), 'VMG_DISK_FULL');
    assert.equal(code('[Errno 28] No space left on device'), 'VMG_DISK_FULL');
  });

  it('anything else is left to the caller', () => {
    assert.equal(code('Error: Transaction check error: file /x conflicts between attempted installs'), undefined);
  });
});

describe('dnfInstaller', () => {
  it('is the registry\'s dnf installer', () => assert.equal(installerFor('dnf'), dnfInstaller));

  it('names the host tools a build checks for before it starts', () => assert.deepEqual([...dnfInstaller.hostTools].sort(), ['dnf', 'mknod', 'rpm', 'unshare']));

  it('puts a VM kernel\'s setup files (dracut settings) in the root before dnf runs', { skip: process.getuid?.() === 0 ? false : 'needs root (unshare)' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-dnf-setup-'));
    try {
      const root = join(dir, 'root');
      mkdirSync(root);
      const ctx = { debsDir: join(dir, 'debs'), signal: new AbortController().signal, log: () => {} };
      // A repository that is not there: dnf fails, after the files are in place.
      const source = { ...layer(['systemd'], `file://${join(dir, 'no-repo')}`), setupFiles: [{ path: '/etc/dracut.conf.d/90-vmgen.conf', content: 'hostonly="no"\n' }] };
      await assert.rejects(dnfInstaller.bootstrap(source, root, ctx), (e: unknown) => e instanceof VmgenError);
      assert.equal(readFileSync(join(root, 'etc', 'dracut.conf.d', '90-vmgen.conf'), 'utf8'), 'hostonly="no"\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
