import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOs, loadCatalogs } from '../src/catalog/load.js';
import { BUILDABLE_TARGETS } from '../src/targets/commanders.js';
import { run } from './helpers/cli.js';

/**
 * examples/ holds only configs that build: each validates without a target, and for every
 * target that can hold its OS (Windows: the VM targets) it validates with --target and renders.
 * The seed's listings as printed, errors and all, are test fixtures (test/fixtures/seed).
 */
const ROOT = join(import.meta.dirname, '..');
const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.conf')).sort();
const catalogs = loadCatalogs({ env: {} });

let scratch: string;
before(() => { scratch = mkdtempSync(join(tmpdir(), 'vmgen-examples-')); });
after(() => rmSync(scratch, { recursive: true, force: true }));

function osOf(file: string): string {
  const id = /^\s*os\s*=\s*(\S+)/m.exec(readFileSync(join(ROOT, 'examples', file), 'utf8'))?.[1];
  assert.ok(id, `${file} names an os`);
  return id;
}

describe('every file in examples/', () => {
  it('is there, the README\'s sample among them', () => {
    assert.ok(EXAMPLES.includes('debian-web.conf'), 'examples/debian-web.conf (scripts/demo.sh builds it)');
    assert.ok(EXAMPLES.length >= 3, `examples: ${EXAMPLES.join(', ')}`);
  });
  for (const file of EXAMPLES) {
    const path = join(ROOT, 'examples', file);
    const windows = findOs(catalogs, osOf(file))?.family === 'windows';
    const targets = BUILDABLE_TARGETS.filter((t) => !windows || t.kind === 'vm').map((t) => t.id);
    it(`${file} validates without a target`, async () => {
      const r = await run('vmgen', ['validate', path]);
      assert.equal(r.code, 0, r.stderr);
    });
    for (const target of targets) {
      it(`${file} validates and renders for ${target}`, async () => {
        const v = await run('vmgen', ['validate', path, '--target', target]);
        assert.equal(v.code, 0, v.stderr);
        const r = await run('vmgen', ['render', path, '-t', target, '-o', join(scratch, `${file}-${target}`)]);
        assert.equal(r.code, 0, r.stderr);
      });
    }
  }
});
