import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { resolveSpec, type ResolvedSpec } from '../../src/config/resolve.js';
import { dirSources, memorySources, walkSource } from '../../src/config/sources.js';
import { ChrootCommunicator } from '../../src/communicators/chroot.js';
import { applyPlan } from '../../src/families/apply.js';
import { debianConfigurator } from '../../src/families/debian/configure.js';
import { redhatConfigurator } from '../../src/families/redhat/configure.js';
import { copyEntries, copyFinishCommands, dirMode } from '../../src/families/linux/copies.js';
import { FIRST_BOOT_UNIT, firstBootChecks, renderFirstBootRunner, renderFirstBootUnit } from '../../src/families/linux/first-boot.js';
import type { GuestCopy, GuestPlan } from '../../src/families/types.js';
import { assertGolden } from '../helpers/golden.js';
import { FakeCommunicator } from '../helpers/fake-communicator.js';

/** [files] and first-boot [scripts] in the Linux families' plans, and applying copies to a root. */
const catalogs = loadCatalogs({ env: {} });
const LAB = fileURLToPath(new URL('../fixtures/services/lab-router.conf', import.meta.url));

function labSpec(os = 'debian12-64'): ResolvedSpec {
  const text = readFileSync(LAB, 'utf8').replace('os = debian12-64', `os = ${os}`);
  const loaded = loadConfig(text, { catalogs, sources: dirSources(dirname(LAB)) });
  if (loaded.config === undefined) throw new Error(JSON.stringify(loaded.diagnostics));
  return resolveSpec(loaded.config, catalogs, { target: 'lxc', defaultMirror: 'http://mirror.example/debian' });
}

describe('[files] and first-boot [scripts] in the plan', () => {
  for (const [name, configurator, os] of [['Debian', debianConfigurator, 'debian12-64'], ['RedHat', redhatConfigurator, 'fedora42-64']] as const) {
    it(`${name}: copies in config order after the first-boot scripts, the unit and its enable link`, () => {
      let plan: GuestPlan;
      try {
        plan = configurator.plan({ spec: labSpec(os), nicOwner: 'target' });
      } catch (err) {
        // A RedHat OS this catalog lacks would make the case meaningless, not pass it.
        throw new Error(`${os}: ${(err as Error).message}`);
      }
      assert.deepEqual(plan.copies?.map((c) => [c.label, c.path, c.owner, c.group, c.mode.toString(8)]), [
        ['[scripts] first', '/var/lib/vmgen/first-boot/scripts/001', 'root', 'root', '700'],
        ['[files] site', '/srv/www/lab', 'www-data', 'www-data', '644'],
        ['[files] motd', '/etc/motd', 'root', 'root', '644'],
      ]);
      assert.deepEqual(plan.links.filter((l) => l.path.includes(FIRST_BOOT_UNIT)), [
        { path: `/etc/systemd/system/multi-user.target.wants/${FIRST_BOOT_UNIT}`, target: `/etc/systemd/system/${FIRST_BOOT_UNIT}` },
      ]);
      assert.equal(plan.files.find((f) => f.path === '/var/lib/vmgen/first-boot/run')?.mode, 0o755);
    });
  }

  it('has no first-boot unit without first-boot scripts', () => {
    const spec = labSpec();
    const plan = debianConfigurator.plan({ spec: { ...spec, provision: { ...spec.provision, scripts: [] } }, nicOwner: 'target' });
    assert.equal(plan.files.some((f) => f.path.includes('first-boot')), false, JSON.stringify(plan.files.map((f) => f.path)));
    assert.equal(plan.links.some((l) => l.path.includes(FIRST_BOOT_UNIT)), false);
    assert.equal(plan.copies?.some((c) => c.path.includes('first-boot')), false);
  });

  it('renders the unit and its runner (golden)', () => {
    assertGolden('first-boot/vmgen-first-boot.service', renderFirstBootUnit());
    assertGolden('first-boot/run', renderFirstBootRunner());
  });
});

describe('copy pieces', () => {
  it('gives directories x where their files have r', () => {
    assert.deepEqual([0o644, 0o640, 0o600, 0o444, 0o755, 0o2640].map((m) => dirMode(m).toString(8)), ['755', '750', '700', '555', '755', '2750']);
  });

  it('places a directory tree parents first, and owns every entry with -h', () => {
    const copy: GuestCopy = { label: '[files] site', path: '/srv/www', from: { kind: 'source', source: 'site' }, owner: 'www-data', group: 'web', mode: 0o640 };
    const sources = memorySources(new Map([['site/index.html', Buffer.from('x')], ['site/css/a.css', Buffer.from('y')]]));
    const entries = copyEntries(copy, walkSource(sources, 'site'));
    assert.deepEqual(entries.map((e) => [e.kind, e.path]), [
      ['dir', '/srv/www'], ['dir', '/srv/www/css'], ['file', '/srv/www/css/a.css'], ['file', '/srv/www/index.html'],
    ]);
    assert.deepEqual(copyFinishCommands(copy, entries).map((c) => c.argv), [
      ['mkdir', '-p', '--', '/srv/www', '/srv/www/css'],
      ['chmod', '0750', '--', '/srv/www', '/srv/www/css'],
      ['chown', '-h', 'www-data:web', '--', '/srv/www', '/srv/www/css', '/srv/www/css/a.css', '/srv/www/index.html'],
    ]);
  });

  it('splits a large tree over several commands', () => {
    const files = new Map(Array.from({ length: 1200 }, (_, i) => [`d/f${i}`, Buffer.from('')] as [string, Buffer]));
    const copy: GuestCopy = { label: '[files] d', path: '/d', from: { kind: 'source', source: 'd' }, owner: 'root', group: 'root', mode: 0o644 };
    const chowns = copyFinishCommands(copy, copyEntries(copy, walkSource(memorySources(files), 'd'))).filter((c) => c.argv[0] === 'chown');
    assert.deepEqual(chowns.map((c) => c.argv.length - 4), [500, 500, 201]);
  });
});

describe('applying copies to a guest root', () => {
  let dir: string;
  let root: string;
  let host: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmgen-copies-'));
    root = join(dir, 'root');
    host = join(dir, 'host');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(host);
    mkdirSync(join(dir, 'beside', 'site', 'img'), { recursive: true });
    writeFileSync(join(dir, 'beside', 'site', 'index.html'), '<h1>lab</h1>\n');
    writeFileSync(join(dir, 'beside', 'site', 'img', 'logo.svg'), '<svg/>\n');
    // Links in the guest that point out of it, as a hostile or careless image might have.
    symlinkSync(host, join(root, 'srv'));
    symlinkSync(join(host, 'motd'), join(root, 'etc', 'motd'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the tree and the inline text inside the root, never through a link out of it, then runs chmod and chown last', async () => {
    const comm = new ChrootCommunicator(root);
    const ran: string[][] = [];
    comm.exec = async (argv) => {
      ran.push([...argv]);
      return { stdout: '', stderr: '' };
    };
    comm.execAll = async (argvs) => {
      for (const argv of argvs) ran.push([...argv]);
      return { stdout: '', stderr: '' };
    };
    const plan: GuestPlan = {
      files: [], links: [],
      commands: [{ argv: ['useradd', 'web'], why: 'accounts' }],
      copies: [
        { label: '[files] site', path: '/srv/www', from: { kind: 'source', source: 'site' }, owner: 'web', group: 'web', mode: 0o600 },
        { label: '[files] motd', path: '/etc/motd', from: { kind: 'inline', content: 'hello\n' }, owner: 'root', group: 'root', mode: 0o644 },
      ],
    };
    await applyPlan(comm, plan, { sources: dirSources(join(dir, 'beside')) });
    // /srv -> HOST resolves inside the root: the files land under ROOT/HOST, not in HOST.
    const inRoot = join(root, host, 'www');
    assert.equal(readFileSync(join(inRoot, 'img', 'logo.svg'), 'utf8'), '<svg/>\n');
    assert.equal((statSync(join(inRoot, 'index.html')).mode & 0o7777).toString(8), '600');
    assert.deepEqual(readFileSyncOrNone(join(host, 'www', 'index.html')), undefined);
    // The final link /etc/motd is replaced by the file, not followed to the host.
    assert.equal(lstatSync(join(root, 'etc', 'motd')).isFile(), true);
    assert.equal(readFileSync(join(root, 'etc', 'motd'), 'utf8'), 'hello\n');
    assert.equal(existsSync(join(host, 'motd')), false, 'nothing was written through the link to the host');
    assert.deepEqual(ran.map((a) => a.slice(0, 3)), [['useradd', 'web'], ['mkdir', '-p', '--'], ['chmod', '0700', '--'], ['chown', '-h', 'web:web'], ['chown', '-h', 'root:root']]);
    assert.equal(readlinkSync(join(root, 'srv')), host, 'the guest\'s own link is left as it was');
  });

  it('refuses a source that became a link after validation', async () => {
    symlinkSync('/etc/passwd', join(dir, 'beside', 'site', 'img', 'evil'));
    try {
      const comm = new ChrootCommunicator(root);
      comm.exec = async () => ({ stdout: '', stderr: '' });
      const plan: GuestPlan = { files: [], links: [], commands: [], copies: [{ label: '[files] site', path: '/srv/x', from: { kind: 'source', source: 'site' }, owner: 'root', group: 'root', mode: 0o644 }] };
      await assert.rejects(applyPlan(comm, plan, { sources: dirSources(join(dir, 'beside')) }), /\[files\] site: 'site' is no longer a plain file or directory \(site\/img\/evil\)/);
    } finally {
      rmSync(join(dir, 'beside', 'site', 'img', 'evil'));
    }
  });
});

function readFileSyncOrNone(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

describe('first-boot check', () => {
  const spec = labSpec();
  const opts = { booted: true, addressesInGuest: true, activeTimeoutMs: 0, pollIntervalMs: 0 };

  it('is asked only of a booted guest with first-boot scripts', () => {
    assert.equal(firstBootChecks(spec, { ...opts, booted: false }).length, 0);
    assert.equal(firstBootChecks({ ...spec, provision: { ...spec.provision, scripts: [] } }, opts).length, 0);
    assert.deepEqual(firstBootChecks(spec, opts).map((c) => c.name), ['first-boot scripts ran']);
  });

  it('passes on the marker and fails with the unit\'s result without it', async () => {
    const [c] = firstBootChecks(spec, opts);
    const ran = new FakeCommunicator().on(['test', '-e', '/var/lib/vmgen/first-boot/done'], {});
    assert.deepEqual(await c!.run(ran), { ok: true, detail: '/var/lib/vmgen/first-boot/done is there' });
    const failed = new FakeCommunicator()
      .on(['test', '-e', '/var/lib/vmgen/first-boot/done'], { exitCode: 1 })
      .on(['systemctl', 'show', '--property=ActiveState,Result', '--', FIRST_BOOT_UNIT], { stdout: 'ActiveState=failed\nResult=exit-code\n' });
    const r = await c!.run(failed);
    assert.equal(r.ok, false);
    assert.match(r.detail, /vmgen-first-boot.service failed, result exit-code/);
  });
});
