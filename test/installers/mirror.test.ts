import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isInstance } from '../helpers/assert-values.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultMirror } from '../../src/orchestrator/mirror.js';
import { loadCatalogs } from '../../src/catalog/load.js';
import { VmgenError } from '../../src/errors.js';
import { hostMirror, parseDeb822Sources, parseOneLineSources, pickMirror, type AptSource } from '../../src/installers/apt/mirror.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/apt/${name}`, import.meta.url), 'utf8');

const tmp = mkdtempSync(join(tmpdir(), 'vmgen-mirror-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A fake host: its /etc/os-release and /etc/apt, built from fixtures. */
function host(name: string, osRelease: string | undefined, files: Record<string, string>): { aptDir: string; osRelease: string } {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'apt', 'sources.list.d'), { recursive: true });
  if (osRelease !== undefined) writeFileSync(join(dir, 'os-release'), fixture(osRelease));
  for (const [path, fixtureName] of Object.entries(files)) writeFileSync(join(dir, 'apt', path), fixture(fixtureName));
  return { aptDir: join(dir, 'apt'), osRelease: join(dir, 'os-release') };
}

const source = (types: string[], uris: string[], suites: string[], components: string[] = ['main']): AptSource => ({ types, uris, suites, components });

describe('parseDeb822Sources', () => {
  it('reads every enabled stanza of a Debian 12 .sources file, joining continuation lines', () => {
    assert.deepEqual(parseDeb822Sources(fixture('debian.sources')), [
      source(['deb', 'deb-src'], ['http://mirror.example/debian/'], ['bookworm', 'bookworm-updates'], ['main', 'contrib', 'non-free-firmware']),
      source(['deb', 'deb-src'], ['http://mirror.example/debian-security/'], ['bookworm-security'], ['main', 'non-free-firmware']),
    ]);
  });

  it('skips stanzas with Enabled: no, in any case', () => {
    const text = 'Types: deb\nURIs: http://mirror.example/a\nSuites: bookworm\nEnabled: No\n\nTypes: deb\nURIs: http://mirror.example/b\nSuites: bookworm\nEnabled: yes\n';
    assert.deepEqual(parseDeb822Sources(text).map((s) => s.uris), [['http://mirror.example/b']]);
  });

  it('ignores comment lines inside a stanza and stanzas that are only comments', () => {
    const text = '# header\n# Types: deb\n\nTypes: deb\n# URIs: http://mirror.example/commented\nURIs: http://mirror.example/debian\nSuites: bookworm\n';
    assert.deepEqual(parseDeb822Sources(text), [source(['deb'], ['http://mirror.example/debian'], ['bookworm'], [])]);
  });

  it('reads field names in any case and several URIs and suites', () => {
    const text = 'types: deb\nuris: http://mirror.example/one\n  http://mirror.example/two\nsuites: trixie\ncomponents: main\n';
    assert.deepEqual(parseDeb822Sources(text), [source(['deb'], ['http://mirror.example/one', 'http://mirror.example/two'], ['trixie'])]);
  });

  it('separates stanzas on lines holding only spaces, and skips a stanza without Types or URIs', () => {
    const text = 'Types: deb\nURIs: http://mirror.example/a\nSuites: bookworm\n   \nURIs: http://mirror.example/no-types\nSuites: bookworm\n\nTypes: deb\nSuites: bookworm\n';
    assert.deepEqual(parseDeb822Sources(text).map((s) => s.uris), [['http://mirror.example/a']]);
  });

  it('reads nothing from an empty file', () => {
    assert.deepEqual(parseDeb822Sources(''), []);
  });
});

describe('parseOneLineSources', () => {
  it('reads deb and deb-src lines of a sources.list, with [options] and trailing comments', () => {
    assert.deepEqual(parseOneLineSources(fixture('sources.list')), [
      source(['deb'], ['http://mirror.example/debian/'], ['bookworm'], ['main', 'non-free-firmware']),
      source(['deb-src'], ['http://mirror.example/debian/'], ['bookworm'], ['main', 'non-free-firmware']),
      source(['deb'], ['http://mirror.example/debian-security'], ['bookworm-security'], ['main', 'non-free-firmware']),
      source(['deb-src'], ['http://mirror.example/debian-security'], ['bookworm-security'], ['main', 'non-free-firmware']),
      source(['deb'], ['http://mirror.example/debian/'], ['bookworm-updates'], ['main', 'non-free-firmware']),
    ]);
  });

  it('skips commented-out and malformed lines', () => {
    assert.deepEqual(parseOneLineSources('#deb http://mirror.example/debian bookworm main\ndebx http://mirror.example/x bookworm\ndeb http://mirror.example/only-uri\n'), []);
  });

  it('accepts a line with no components (a flat repository)', () => {
    assert.deepEqual(parseOneLineSources('  deb http://mirror.example/flat ./'), [source(['deb'], ['http://mirror.example/flat'], ['./'], [])]);
  });
});

describe('pickMirror', () => {
  it('takes the first binary source of a release suite, without trailing slashes', () => {
    assert.equal(pickMirror(parseDeb822Sources(fixture('debian.sources'))), 'http://mirror.example/debian');
    assert.equal(pickMirror(parseOneLineSources(fixture('sources.list'))), 'http://mirror.example/debian');
  });

  it('skips deb-src, -security, -updates, -backports, -proposed and /updates suites', () => {
    const skipped = [
      source(['deb-src'], ['http://mirror.example/src'], ['bookworm']),
      source(['deb'], ['http://mirror.example/sec'], ['bookworm-security']),
      source(['deb'], ['http://mirror.example/old-sec'], ['bullseye/updates']),
      source(['deb'], ['http://mirror.example/upd'], ['bookworm-updates', 'bookworm-backports']),
      source(['deb'], ['http://mirror.example/prop'], ['noble-proposed']),
    ];
    assert.equal(pickMirror(skipped), undefined);
    assert.equal(pickMirror([...skipped, source(['deb'], ['http://mirror.example/debian//'], ['bookworm'])]), 'http://mirror.example/debian');
  });

  it('takes a source that serves a release suite among update suites', () => {
    assert.equal(pickMirror([source(['deb'], ['https://mirror.example/debian'], ['bookworm-updates', 'bookworm'])]), 'https://mirror.example/debian');
  });

  it('skips URIs apt reaches through other methods (cdrom, mirror+, tor+) but keeps file://', () => {
    assert.equal(pickMirror([source(['deb'], ['cdrom:[Debian 12]/'], ['bookworm'])]), undefined);
    assert.equal(pickMirror([source(['deb'], ['mirror+file:/etc/apt/mirrors.txt'], ['bookworm'])]), undefined);
    assert.equal(pickMirror([source(['deb'], ['tor+http://mirror.example/debian'], ['bookworm'])]), undefined);
    assert.equal(pickMirror([source(['deb'], ['cdrom:[x]/', 'http://mirror.example/debian'], ['bookworm'])]), 'http://mirror.example/debian');
    assert.equal(pickMirror([source(['deb'], ['file:///srv/mirror/'], ['bookworm'])]), 'file:///srv/mirror');
  });

  it('has nothing to pick from no sources', () => {
    assert.equal(pickMirror([]), undefined);
  });
});

describe('hostMirror', () => {
  it("lends a Debian host's mirror to a Debian guest (deb822 sources)", () => {
    const opts = host('deb822', 'os-release.debian', { 'sources.list.d/debian.sources': 'debian.sources' });
    assert.equal(hostMirror('debian', opts), 'http://mirror.example/debian');
  });

  it('reads a one-line sources.list too', () => {
    const opts = host('oneline', 'os-release.debian', { 'sources.list': 'sources.list' });
    assert.equal(hostMirror('debian', opts), 'http://mirror.example/debian');
  });

  it('ignores files in sources.list.d that are neither .list nor .sources', () => {
    const opts = host('other-files', 'os-release.debian', { 'sources.list.d/debian.sources.bak': 'debian.sources', 'sources.list.d/notes.txt': 'sources.list' });
    assert.equal(hostMirror('debian', opts), undefined);
  });

  it('lends nothing to an Ubuntu guest on a Debian host', () => {
    const opts = host('deb-for-ubuntu', 'os-release.debian', { 'sources.list.d/debian.sources': 'debian.sources' });
    assert.equal(hostMirror('ubuntu', opts), undefined);
  });

  it("lends an Ubuntu host's mirror to an Ubuntu guest", () => {
    const opts = host('ubuntu', 'os-release.ubuntu', { 'sources.list.d/ubuntu.sources': 'ubuntu.sources' });
    assert.equal(hostMirror('ubuntu', opts), 'http://mirror.example/ubuntu');
    assert.equal(hostMirror('debian', opts), undefined);
  });

  it('lends nothing when the host has no sources or no os-release', () => {
    assert.equal(hostMirror('debian', host('empty', 'os-release.debian', {})), undefined);
    assert.equal(hostMirror('debian', host('no-os-release', undefined, { 'sources.list.d/debian.sources': 'debian.sources' })), undefined);
    assert.equal(hostMirror('debian', { aptDir: join(tmp, 'does-not-exist'), osRelease: join(tmp, 'does-not-exist', 'os-release') }), undefined);
  });
});

describe('defaultMirror', () => {
  const catalogs = loadCatalogs({ env: {} });

  /** Runs `fn` with VMGEN_MIRROR set to `value` (or unset), restoring the environment after. */
  function withEnvMirror<T>(value: string | undefined, fn: () => T): T {
    const saved = process.env.VMGEN_MIRROR;
    if (value === undefined) delete process.env.VMGEN_MIRROR;
    else process.env.VMGEN_MIRROR = value;
    try {
      return fn();
    } finally {
      if (saved === undefined) delete process.env.VMGEN_MIRROR;
      else process.env.VMGEN_MIRROR = saved;
    }
  }

  const debianHost = host('default-mirror', 'os-release.debian', { 'sources.list.d/debian.sources': 'debian.sources' });

  it("uses the host's mirror for its own distribution", () => {
    withEnvMirror(undefined, () => assert.equal(defaultMirror(catalogs, 'debian12-64', debianHost), 'http://mirror.example/debian'));
  });

  it('lets VMGEN_MIRROR win over the host, for any distribution', () => {
    withEnvMirror('http://mirror.example/ubuntu/', () => {
      assert.equal(defaultMirror(catalogs, 'debian12-64', debianHost), 'http://mirror.example/ubuntu');
      assert.equal(defaultMirror(catalogs, 'ubuntu24.04-64', debianHost), 'http://mirror.example/ubuntu');
    });
  });

  it('ignores an empty VMGEN_MIRROR', () => {
    withEnvMirror('', () => assert.equal(defaultMirror(catalogs, 'debian12-64', debianHost), 'http://mirror.example/debian'));
  });

  it('refuses with VMG_MIRROR and a hint when no mirror is known (Ubuntu on a Debian host)', () => {
    withEnvMirror(undefined, () => {
      assert.throws(() => defaultMirror(catalogs, 'ubuntu24.04-64', debianHost), (err: unknown) => {
        isInstance(err, VmgenError);
        assert.equal(err.code, 'VMG_MIRROR');
        assert.match(err.message, /no ubuntu mirror is known for ubuntu24\.04-64/);
        assert.match(err.hint ?? '', /mirror = http/);
        assert.match(err.hint ?? '', /VMGEN_MIRROR/);
        return true;
      });
    });
  });

  it('refuses with VMG_MIRROR for an OS that apt does not install', () => {
    withEnvMirror(undefined, () => {
      assert.throws(() => defaultMirror(catalogs, 'fedora42-64', debianHost), (err: unknown) => err instanceof VmgenError && err.code === 'VMG_MIRROR');
    });
  });

  it('throws an internal error for an OS not in the catalog', () => {
    assert.throws(() => defaultMirror(catalogs, 'no-such-os', debianHost), (err: unknown) => err instanceof Error && !(err instanceof VmgenError));
  });
});
