import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { BUILTIN_CATALOG_FILES, installEntry, loadCatalogs, overrideKeys } from '../../src/catalog/load.js';
import { AppEntrySchema, OsEntrySchema, type AppEntry, type OsEntry } from '../../src/catalog/schema.js';

/** The generic names of the seed's Listings 2.6-2.8 plus pidgin from Listing 4.8. */
const SEED_APPS = [
  'vim', 'emacs', 'eclipse', 'build-utils', 'kernel-devel', 'valgrind', 'python', 'php', 'tcl',
  'httpd', 'dns-server', 'dhcp-server', 'ftp-server', 'sshd', 'svn', 'git',
  'mozilla-firefox', 'google-chrome', 'mozilla-thunderbird', 'wireshark', 'pidgin',
];

/** The os ids the seed uses (section 2.1 and Listing 4.3). */
const SEED_OS_IDS = ['debian5-64', 'ubuntu-64', 'ubuntu', 'fedora', 'fedora-64', 'winxppro', 'windows7', 'windows7-64'];

const builtin = loadCatalogs({ env: {} });
const raw = BUILTIN_CATALOG_FILES.map((f) => JSON.parse(readFileSync(f, 'utf8')) as { os?: unknown[]; apps?: unknown[] });

test('the built-in files validate entry by entry', () => {
  const os = raw.flatMap((r) => r.os ?? []);
  const apps = raw.flatMap((r) => r.apps ?? []);
  for (const entry of os) assert.equal(OsEntrySchema.safeParse(entry).success, true, JSON.stringify(entry));
  for (const entry of apps) assert.equal(AppEntrySchema.safeParse(entry).success, true, JSON.stringify(entry));
  assert.equal(builtin.os.length, os.length);
  assert.equal(builtin.apps.length, apps.length);
  assert.ok(builtin.apps.length >= 45 && builtin.apps.length <= 60, `${builtin.apps.length} apps`);
});

test('ids and names are unique', () => {
  const ids = builtin.os.map((o) => o.id);
  const names = builtin.apps.map((a) => a.name);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(new Set(names).size, names.length);
});

test('the seed OS ids are present and marked legacy, with Listing 4.3 controllers', () => {
  for (const id of SEED_OS_IDS) {
    const os = builtin.os.find((o) => o.id === id);
    assert.ok(os, id);
    assert.equal(os.legacy, true, id);
  }
  const byId = (id: string): OsEntry => builtin.os.find((o) => o.id === id)!;
  assert.equal(byId('winxppro').defaultController, 'ide');
  assert.equal(byId('windows7-64').defaultController, 'lsisas1068');
  assert.equal(byId('debian5-64').defaultController, 'lsilogic');
  assert.match(byId('debian5-64').label, /built as Debian 12/);
  for (const id of ['debian12-64', 'debian13-64', 'ubuntu22.04-64', 'ubuntu24.04-64', 'fedora42-64', 'rocky9-64', 'alma9-64',
    'windows10-64', 'windows11-64', 'windows2022srv-64']) {
    assert.equal(byId(id)?.legacy, undefined, id);
  }
});

test('every seed generic name is in the catalog', () => {
  for (const name of SEED_APPS) assert.ok(builtin.apps.some((a) => a.name === name), name);
});

test('every OS has an entry or an explicit unavailable reason for every seed name', () => {
  for (const os of builtin.os) {
    for (const name of SEED_APPS) {
      const app = builtin.apps.find((a) => a.name === name)!;
      assert.notEqual(installEntry(app, os), undefined, `${name} on ${os.id}`);
    }
  }
});

test('every built-in app covers all three installers', () => {
  for (const app of builtin.apps) {
    for (const installer of ['apt', 'dnf', 'windows-kits'] as const) assert.ok(app[installer], `${app.name} ${installer}`);
  }
});

test('every osOverrides key matches some OS in the table', () => {
  const known = new Set(builtin.os.flatMap(overrideKeys));
  for (const app of builtin.apps) {
    for (const key of Object.keys(app.osOverrides ?? {})) assert.ok(known.has(key), `${app.name}: ${key}`);
  }
});

/** The apt names an OS gets: the base apt entries with that OS's overrides applied. */
function aptNamesFor(apps: AppEntry[], oses: OsEntry[]): string[] {
  const names = new Set<string>();
  for (const os of oses) {
    for (const app of apps) {
      const entry = installEntry(app, os);
      if (entry && 'packages' in entry) for (const p of entry.packages) names.add(p);
    }
  }
  return [...names].sort();
}

function hostRelease(): { id: string; version: string } | undefined {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const field = (k: string): string => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1] ?? '';
    return { id: field('ID'), version: field('VERSION_ID') };
  } catch {
    return undefined;
  }
}

test('every apt package name exists in the host apt archive (checked on a host whose release is in the table)', (t) => {
  if (spawnSync('apt-cache', ['--version'], { encoding: 'utf8' }).error) {
    t.skip('apt-cache is not on PATH; the apt package names are checked on Debian 12 CI');
    return;
  }
  const host = hostRelease();
  const oses = builtin.os.filter((o) => o.installer === 'apt' && o.distribution === host?.id && o.release === host?.version);
  if (oses.length === 0) {
    t.skip(`host ${host?.id ?? '?'} ${host?.version ?? '?'} is not an apt release in the OS table`);
    return;
  }
  const names = aptNamesFor(builtin.apps, oses);
  // apt-cache show exits 0 when some names are missing and prints nothing for virtual packages,
  // so presence is judged from the Package: lines it prints.
  const r = spawnSync('apt-cache', ['show', '--no-all-versions', ...names], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const found = new Set([...r.stdout.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]));
  assert.ok(found.size > 0, `apt-cache found none of ${names.length} packages: are the apt lists empty (apt-get update)?`);
  const missing = names.filter((n) => !found.has(n));
  assert.deepEqual(missing, [], `not in ${host?.id} ${host?.version}'s apt archive: ${missing.join(' ')}`);
});
