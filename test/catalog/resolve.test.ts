import { test } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, includesNone, isInstance, show } from '../helpers/assert-values.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmgenError } from '../../src/errors.js';
import { appsForOs, findOs, loadCatalogs, resolveApp } from '../../src/catalog/load.js';
import type { OsEntry } from '../../src/catalog/schema.js';

function writeTempJson(name: string, value: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vmgen-catalog-')), name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

const catalogs = loadCatalogs({ env: {} });
const os = (id: string): OsEntry => {
  const found = findOs(catalogs, id);
  assert.ok(found, id);
  return found;
};

test('findOs finds seed and current ids and nothing else', () => {
  assert.equal(os('winxppro').installer, 'windows-kits');
  assert.equal(os('debian12-64').suite, 'bookworm');
  assert.equal(findOs(catalogs, 'debian5'), undefined);
});

test('resolveApp: apt packages and the services to enable', () => {
  assert.deepEqual(resolveApp(catalogs, 'httpd', os('debian12-64')), { ok: true, packages: ['apache2'], services: ['apache2'] });
  assert.deepEqual(resolveApp(catalogs, 'sshd', os('debian5-64')), { ok: true, packages: ['openssh-server'], services: ['ssh'] });
  assert.deepEqual(resolveApp(catalogs, 'dns-server', os('debian13-64')), { ok: true, packages: ['bind9'], services: ['named'] });
});

test('resolveApp: an app the distribution cannot provide fails with a reason and a hint, never a substitute', () => {
  const r = resolveApp(catalogs, 'google-chrome', os('debian12-64'));
  assert.equal(r.ok, false);
  assert.ok(!r.ok, show(r));
  assert.match(r.reason, /google-chrome.*debian12-64.*not in the Debian/);
  assert.match(r.hint ?? '', /chromium/);
  const eclipse = resolveApp(catalogs, 'eclipse', os('ubuntu24.04-64'));
  assert.equal(eclipse.ok, false);
});

test('resolveApp: an unknown name', () => {
  assert.deepEqual(resolveApp(catalogs, 'vimm', os('debian12-64')), { ok: false, reason: 'unknown application "vimm"' });
});

test('resolveApp: dnf names and per-distribution overrides', () => {
  assert.deepEqual(resolveApp(catalogs, 'sshd', os('fedora42-64')), { ok: true, packages: ['openssh-server'], services: ['sshd'] });
  assert.deepEqual(resolveApp(catalogs, 'dhcp-server', os('rocky9-64')), { ok: true, packages: ['kea'], services: ['kea-dhcp4'] });
  // Rocky and Alma are "like" rhel, so the rhel override applies to both.
  for (const id of ['rocky9-64', 'alma9-64']) {
    const r = resolveApp(catalogs, 'pidgin', os(id));
    assert.equal(r.ok, false, id);
    assert.ok(!r.ok, show(r));
    assert.match(r.reason, /EPEL/);
  }
  assert.equal(resolveApp(catalogs, 'pidgin', os('fedora42-64')).ok, true);
  assert.deepEqual(resolveApp(catalogs, 'redis', os('fedora42-64')), { ok: true, packages: ['valkey'], services: ['valkey'] });
  assert.deepEqual(resolveApp(catalogs, 'mozilla-firefox', os('ubuntu22.04-64')), { ok: true, packages: ['firefox'], services: [] });
  assert.deepEqual(resolveApp(catalogs, 'mozilla-firefox', os('debian12-64')), { ok: true, packages: ['firefox-esr'], services: [] });
});

test('resolveApp: windows kits as in the seed (Listings 4.8 and 4.9)', () => {
  const xp = os('winxppro');
  assert.deepEqual(resolveApp(catalogs, 'pidgin', xp), {
    ok: true, packages: [], services: [],
    kit: { type: 'simple', setupFile: 'pidgin-setup.exe', args: '/DS=1 /SMS=0 /L=1033 /S', installDir: '/D={dir}' },
  });
  assert.deepEqual(resolveApp(catalogs, 'vim', xp), { ok: true, packages: [], services: [], kit: { type: 'simple', setupFile: 'gvim-setup.exe', installDir: '/D={dir}' } });
  assert.deepEqual(resolveApp(catalogs, 'python', xp), { ok: true, packages: [], services: [], kit: { type: 'msi', setupFile: 'python-setup.msi' } });
  assert.deepEqual(resolveApp(catalogs, 'emacs', xp), { ok: true, packages: [], services: [], kit: { type: 'archive', setupFile: 'emacs.zip' } });
  const tb = resolveApp(catalogs, 'mozilla-thunderbird', os('windows7-64'));
  assert.ok(tb.ok, show(tb));
  assert.equal(tb.kit?.setupFile, 'ThunderbirdSetup.exe');
  assert.equal(tb.kit.args, '-ms');
  const kd = resolveApp(catalogs, 'kernel-devel', os('windows11-64'));
  assert.ok(!kd.ok, show(kd));
  assert.notEqual(kd.reason, '');
});

test('appsForOs lists only what resolves', () => {
  const deb = appsForOs(catalogs, os('debian12-64')).map((a) => a.name);
  includesAll(deb, ['vim', 'chromium']);
  includesNone(deb, ['google-chrome', 'eclipse']);
  const win = appsForOs(catalogs, os('windows10-64')).map((a) => a.name);
  includesAll(win, ['google-chrome']);
  includesNone(win, ['kernel-devel']);
});

test('an extra catalog adds an app and overrides an OS without code changes', () => {
  const base = os('debian12-64');
  const file = writeTempJson('extra.json', {
    os: [{ ...base, label: 'Debian 12 lab image', firmware: 'bios' }],
    apps: [
      { name: 'jupyter', category: 'devel', description: 'Jupyter Notebook', apt: { packages: ['jupyter-notebook'] } },
      { name: 'pidgin', category: 'gui', description: 'Pidgin from EPEL', dnf: { packages: ['pidgin'] } },
    ],
  });
  const extended = loadCatalogs({ extraPaths: [file], env: {} });
  const deb = findOs(extended, 'debian12-64')!;
  assert.equal(deb.label, 'Debian 12 lab image');
  assert.equal(deb.firmware, 'bios');
  assert.equal(extended.os.length, catalogs.os.length);
  assert.deepEqual(resolveApp(extended, 'jupyter', deb), { ok: true, packages: ['jupyter-notebook'], services: [] });
  // The override replaces the whole entry: this pidgin has no osOverrides and no apt entry any more.
  assert.equal(resolveApp(extended, 'pidgin', findOs(extended, 'rocky9-64')!).ok, true);
  const noApt = resolveApp(extended, 'pidgin', deb);
  assert.ok(!noApt.ok, show(noApt));
  assert.match(noApt.reason, /no apt entry/);
  assert.match(noApt.hint ?? '', /extra catalog/);
  assert.deepEqual(extended.files.at(-1), file);
});

test('VMGEN_CATALOG_PATH files load before --catalog files, and entries may be keyed objects', () => {
  const fromEnv = writeTempJson('env.json', { apps: { jupyter: { category: 'devel', description: 'from env', apt: { packages: ['jupyter'] } } } });
  const fromCli = writeTempJson('cli.json', { apps: { jupyter: { category: 'devel', description: 'from cli', apt: { packages: ['jupyter-notebook'] } } } });
  const both = loadCatalogs({ env: { VMGEN_CATALOG_PATH: `${fromEnv}:` }, extraPaths: [fromCli] });
  assert.equal(both.apps.find((a) => a.name === 'jupyter')?.description, 'from cli');
  const envOnly = loadCatalogs({ env: { VMGEN_CATALOG_PATH: fromEnv } });
  assert.equal(envOnly.apps.find((a) => a.name === 'jupyter')?.description, 'from env');
});

function catalogError(data: unknown): VmgenError {
  const file = writeTempJson('bad.json', data);
  try {
    loadCatalogs({ extraPaths: [file], env: {} });
  } catch (err) {
    isInstance(err, VmgenError);
    assert.ok(err.message.includes(file), err.message);
    return err;
  }
  assert.fail('expected a VMG_CATALOG error');
}

test('an invalid extra catalog gives VMG_CATALOG naming the file and the path', () => {
  const bad = catalogError({ apps: [{ name: 'x', category: 'games', description: 'd' }] });
  assert.equal(bad.code, 'VMG_CATALOG');
  assert.match(bad.message, /apps\.0\.category/);
  assert.match(catalogError({ apps: [{ name: 'x', category: 'devel', description: 'd', apt: { packages: ['vim; rm -rf /'] } }] }).message,
    /apps\.0\.apt\.packages\.0: not a package name/);
  assert.match(catalogError({ os: { bad: { ...os('winxppro'), id: undefined, installer: 'apt' } } }).message, /os\.bad\.installer/);
  assert.match(catalogError({ apps: [], extra: 1 }).message, /\(top level\).*extra/);
  assert.equal(catalogError('{ not json').code, 'VMG_CATALOG');
  const dup = { name: 'x', category: 'devel', description: 'd' };
  assert.match(catalogError({ apps: [dup, dup] }).message, /appears twice/);
});

test('a missing extra catalog file is a read error', () => {
  assert.throws(() => loadCatalogs({ extraPaths: ['/nonexistent/vmgen-catalog.json'], env: {} }),
    (err: unknown) => err instanceof VmgenError && err.code === 'VMG_FILE_READ' && err.message.includes('/nonexistent/vmgen-catalog.json'));
});
