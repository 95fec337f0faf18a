import { test } from 'node:test';
import assert from 'node:assert/strict';
import { someItem, everyItem, show } from '../helpers/assert-values.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoStack, run as runCli } from '../helpers/cli.js';

const SEED_OS_IDS = ['debian5-64', 'ubuntu-64', 'ubuntu', 'fedora', 'fedora-64', 'winxppro', 'windows7', 'windows7-64'];

function writeTempJson(name: string, value: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vmgen-catalog-')), name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runCli('vmgen', args);
  assertNoStack(r.stderr);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

test('vmgen catalog os --json prints the OS table', async () => {
  const r = await run('catalog', 'os', '--json');
  assert.equal(r.code, 0, r.err);
  const table = JSON.parse(r.out) as { id: string; vmwareGuestOs: string }[];
  for (const id of SEED_OS_IDS) assert.ok(table.some((o) => o.id === id), id);
  assert.equal(table.find((o) => o.id === 'windows2022srv-64')?.vmwareGuestOs, 'windows2019srvNext-64');
});

test('vmgen catalog os prints aligned columns', async () => {
  const r = await run('catalog', 'os');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.match(lines[0] ?? '', /^ID\s+FAMILY\s+DISTRIBUTION\s+RELEASE\s+ARCH\s+INSTALLER\s+CONFIGURATOR\s+VMWARE GUESTOS\s+CONTROLLER\s+FIRMWARE$/);
  const xp = lines.find((l) => l.startsWith('winxppro'));
  assert.ok(xp, `no winxppro line in ${show(lines)}`);
  assert.equal(xp.indexOf('windows'), lines[0]!.indexOf('FAMILY'));
});

test('vmgen catalog apps --os debian12-64 --json resolves for apt', async () => {
  const r = await run('catalog', 'apps', '--os', 'debian12-64', '--json');
  assert.equal(r.code, 0, r.err);
  const apps = JSON.parse(r.out) as { name: string; available: boolean; packages?: string[]; services?: string[]; reason?: string; hint?: string }[];
  assert.deepEqual(apps.find((a) => a.name === 'httpd'), {
    name: 'httpd', category: 'services', description: 'Apache HTTP server', installer: 'apt', available: true, packages: ['apache2'], services: ['apache2'],
  });
  const chrome = apps.find((a) => a.name === 'google-chrome');
  assert.equal(chrome?.available, false);
  assert.match(chrome?.hint ?? '', /chromium/);
});

test('vmgen catalog apps --category and --catalog', async () => {
  const extra = writeTempJson('extra.json', { apps: [{ name: 'jupyter', category: 'devel', description: 'Jupyter', apt: { packages: ['jupyter-notebook'] } }] });
  const r = await run('catalog', 'apps', '--category', 'devel', '--catalog', extra, '--json');
  assert.equal(r.code, 0, r.err);
  const apps = JSON.parse(r.out) as { name: string; category: string }[];
  everyItem(apps, (a) => a.category === 'devel');
  someItem(apps.map((a) => a.name), (name) => name === 'jupyter', 'jupyter');
  const text = await run('catalog', 'apps', '--os', 'winxppro', '--category', 'gui');
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /pidgin\s+gui\s+pidgin-setup\.exe \(simple\)\s+\/DS=1 \/SMS=0 \/L=1033 \/S/);
});

test('an unknown --os is a usage error with a hint', async () => {
  const r = await run('catalog', 'apps', '--os', 'debian99-64');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown OS id "debian99-64"/);
  assert.match(r.err, /hint: .*debian12-64/);
});

test('a bad --category is a usage error, written to the injected stderr', async () => {
  const r = await run('catalog', 'apps', '--category', 'games');
  assert.equal(r.code, 2);
  assert.match(r.err, /Allowed choices are devel, services, gui/);
});

test('an invalid --catalog file exits 1 naming the file', async () => {
  const bad = writeTempJson('bad.json', { os: [{ id: 'x' }] });
  const r = await run('catalog', 'os', '--catalog', bad);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: os\\.0\\.`));
});
