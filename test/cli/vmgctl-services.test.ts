import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import type { VmConfig } from '../../src/config/model.js';
import { assertNoStack, run } from '../helpers/cli.js';

/*
 * vmgctl on the service sections: their keys are plain dotted paths (a zone's subsection is named
 * by the user, its domain is a key), so `vmgctl web.conf dns.lab.ttl=60` edits one line, and an
 * edit the service checks refuse is not written.
 */

const FIXTURES = fileURLToPath(new URL('../fixtures/services/', import.meta.url));
const catalogs = loadCatalogs({ env: {} });
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The lab router as web.conf, with the site directory its [files] names beside it. */
function labCopy(): { dir: string; file: string; before: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vmgctl-services-'));
  dirs.push(dir);
  cpSync(join(FIXTURES, 'site'), join(dir, 'site'), { recursive: true });
  const before = readFileSync(join(FIXTURES, 'lab-router.conf'), 'utf8');
  writeFileSync(join(dir, 'web.conf'), before);
  return { dir, file: join(dir, 'web.conf'), before };
}

const textOf = (file: string): string => readFileSync(file, 'utf8');
function model(file: string): VmConfig {
  const r = loadConfig(textOf(file), { catalogs });
  assert.ok(r.config, `the file validates: ${JSON.stringify(r.diagnostics)}`);
  return r.config;
}

describe('vmgctl on the service sections', () => {
  test('vmgctl web.conf dns.lab.ttl=60: one line changes', async () => {
    const { dir, file, before } = labCopy();
    const r = await run('vmgctl', ['web.conf', 'dns.lab.ttl=60'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(textOf(file), before.replace('        ttl = 300\n', '        ttl = 60\n'));
    assert.equal(model(file).dns!.lab!.ttl, 60);
  });

  test('vmgctl web.conf web.lab.tls=0, then web.lab.tls=1 restores the file byte for byte', async () => {
    const { dir, file, before } = labCopy();
    assert.equal((await run('vmgctl', ['web.conf', 'web.lab.tls=0'], dir)).code, 0);
    assert.equal(model(file).web!.lab!.tls, false);
    const r = await run('vmgctl', ['web.conf', 'web.lab.tls=1'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(textOf(file), before);
  });

  test('vmgctl f.conf scripts.x.run=…: a new script in a new subsection, checked like the rest', async () => {
    const { dir, file } = labCopy();
    const r = await run('vmgctl', ['web.conf', 'scripts.x.run=echo ready > /etc/lab-ready', 'scripts.x.when=first-boot'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(textOf(file), /^ {4}\[\[x\]\]\n {8}run = echo ready > \/etc\/lab-ready\n {8}when = first-boot\n/m);
    assert.deepEqual(model(file).scripts.x, { when: 'first-boot', run: 'echo ready > /etc/lab-ready', network: false });
  });

  test('a record at the zone and a fixed DHCP host are dotted paths too', async () => {
    const { dir, file } = labCopy();
    const r = await run('vmgctl', ['web.conf', 'dns.lab.records.ftp=CNAME gw', 'dhcp.eth1.hosts.laptop=52:54:00:00:01:51, 10.0.1.51'], dir);
    assert.equal(r.code, 0, r.stderr);
    const config = model(file);
    assert.deepEqual(config.dns!.lab!.records.ftp, ['CNAME gw']);
    assert.deepEqual(config.dhcp!.eth1!.hosts.laptop, ['52:54:00:00:01:51', '10.0.1.51']);
  });

  test('an edit the service checks refuse is not written: FILE:LINE:COL and the hint', async () => {
    const { dir, file, before } = labCopy();
    const range = await run('vmgctl', ['web.conf', 'dhcp.eth1.range=10.0.2.100 - 10.0.2.199'], dir);
    assert.equal(range.code, 1);
    const line = before.split('\n').findIndex((l) => l.startsWith('        range = ')) + 1;
    assert.match(range.stderr, new RegExp(`^web\\.conf:${line}:17: error: the range 10\\.0\\.2\\.100 - 10\\.0\\.2\\.199 is not inside eth1's subnet 10\\.0\\.1\\.0/24`, 'm'));
    assert.match(range.stderr, /hint: hand out host addresses of 10\.0\.1\.0\/24/);
    assert.match(range.stderr, /not written/);
    assertNoStack(range.stderr);
    const network = await run('vmgctl', ['web.conf', 'scripts.first.network=1'], dir);
    assert.equal(network.code, 1);
    assert.match(network.stderr, /^web\.conf:\d+:\d+: error: network applies to build scripts only/m);
    assert.equal(textOf(file), before);
  });
});
