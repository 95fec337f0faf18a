import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadLabFile } from '../../src/lab/load.js';
import { labFiles } from '../../src/lab/render.js';
import { labJsonSchema } from '../../src/lab/model.js';
import { assertGoldenTree } from '../helpers/golden.js';
import { assertNoStack, run } from '../helpers/cli.js';

/*
 * vmgen lab validate / render, vmgen schema --lab and vmgctl on a lab file, in process; and the
 * example lab's expanded configs as golden files (UPDATE_GOLDEN=1 rewrites them).
 */

const repo = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = 'examples/net101/lab.conf';
const work = mkdtempSync(join(tmpdir(), 'vmgen-lab-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the example lab to break or edit. */
function labCopy(name: string): string {
  const dir = join(work, name);
  cpSync(join(repo, 'examples/net101'), dir, { recursive: true });
  return dir;
}

test('golden: the example lab\'s machine configs as they will be built, and lab.json', () => {
  const r = loadLabFile(EXAMPLE, { catalogs: loadCatalogs({ env: {} }), cwd: repo });
  assert.ok(r.lab, `the example is valid: ${JSON.stringify(r.diagnostics)}`);
  assertGoldenTree('lab/net101', labFiles(r.lab));
});

test('vmgen lab validate: the example is valid, with its count of machines and networks', async () => {
  const r = await run('vmgen', ['lab', 'validate', EXAMPLE], repo);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, `${EXAMPLE}: valid (8 machines on 2 networks)\n`);
  const json = await run('vmgen', ['lab', 'validate', EXAMPLE, '--json', '-t', 'lxc'], repo);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { valid: boolean; machines: number; networks: number; diagnostics: Array<{ severity: string }> };
  assert.deepEqual([parsed.valid, parsed.machines, parsed.networks], [true, 8, 2], 'JSON report');
  assert.ok(parsed.diagnostics.every((d) => d.severity === 'warning'), 'only warnings for lxc');
});

test('vmgen lab validate: errors as FILE:LINE:COL lines and exit 1', async () => {
  const dir = labCopy('broken');
  const lab = join(dir, 'lab.conf');
  writeFileSync(lab, readFileSync(lab, 'utf8').replace('eth0 = dmz:10.20.0.10', 'eth0 = dmz:10.20.9.10').replace('count = 6', 'count = 7'));
  const r = await run('vmgen', ['lab', 'validate', 'lab.conf'], dir);
  assert.equal(r.code, 1, r.stderr);
  assertNoStack(r.stderr);
  assert.match(r.stderr, /^lab\.conf:28:20: error: 10\.20\.9\.10 is outside network 'dmz' \(10\.20\.0\.0\/24\)$/m);
  assert.match(r.stderr, /^lab\.conf:33:18: error: the roster 'students\.csv' has 6 rows, count is 7$/m);
  assert.match(r.stderr, /^lab\.conf: 2 errors$/m);
});

test('vmgen lab render writes machines/NAME.conf and lab.json, the golden files', async () => {
  const out = join(work, 'render');
  const r = await run('vmgen', ['lab', 'render', EXAMPLE, '-o', out, '-t', 'qemu'], repo);
  assert.equal(r.code, 0, r.stderr);
  for (const name of ['gw', 'web', 'pc1', 'pc6']) {
    assert.equal(readFileSync(join(out, `machines/${name}.conf`), 'utf8'), readFileSync(join(repo, `test/golden/lab/net101/machines/${name}.conf`), 'utf8'), `${name}.conf`);
  }
  assert.equal(readFileSync(join(out, 'lab.json'), 'utf8'), readFileSync(join(repo, 'test/golden/lab/net101/lab.json'), 'utf8'), 'lab.json');
  const bad = await run('vmgen', ['lab', 'render', join(work, 'nope.conf'), '-o', join(work, 'r2')], repo);
  assert.equal(bad.code, 1, 'a missing lab file fails');
  assert.ok(!existsSync(join(work, 'r2')), 'nothing written');
});

test('vmgen schema --lab prints the committed lab schema', async () => {
  const r = await run('vmgen', ['schema', '--lab']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), labJsonSchema());
  assert.deepEqual(JSON.parse(readFileSync(join(repo, 'schema/lab.schema.json'), 'utf8')), labJsonSchema(), 'schema/lab.schema.json is current (npm run schema)');
});

test('vmgctl on a lab file: checked as a lab; a set key path is one key after machines.NAME.set.', async () => {
  const dir = labCopy('edit');
  const lab = join(dir, 'lab.conf');
  const before = readFileSync(lab, 'utf8');
  const refused = await run('vmgctl', ['lab.conf', 'machines.pc.count=8'], dir);
  assert.equal(refused.code, 1, 'a count above the roster is refused');
  assert.match(refused.stderr, /lab\.conf:33:18: error: the roster 'students\.csv' has 6 rows, count is 8/);
  assert.equal(readFileSync(lab, 'utf8'), before, 'not written');

  const ok = await run('vmgctl', ['lab.conf', 'machines.pc.count=4', 'machines.pc.set.config.timezone=Europe/Bucharest'], dir);
  assert.equal(ok.code, 0, ok.stderr);
  const text = readFileSync(lab, 'utf8');
  assert.match(text, /^ {8}count = 4$/m, 'count set in place');
  assert.match(text, /^ {12}config\.timezone = Europe\/Bucharest$/m, 'one key in [[[set]]], not a section [[[[config]]]]');
  const got = await run('vmgen', ['get', 'lab.conf', 'machines.pc.set.config.timezone'], dir);
  assert.equal(got.stdout, 'Europe/Bucharest\n', 'vmgen get reads it back with the same rule');
  const r = await run('vmgen', ['lab', 'validate', 'lab.conf'], dir);
  assert.equal(r.stderr, 'lab.conf: valid (6 machines on 2 networks)\n');
});
