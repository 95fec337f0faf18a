import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { entryCommand, entryScript, packagePath, packageRoot } from '../src/package-root.js';
import { BUILTIN_CATALOG_FILES, findOs, loadCatalogs } from '../src/catalog/load.js';
import { mmdebstrapArgv } from '../src/installers/apt/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('package root', () => {
  it('is the checkout holding this test', () => {
    assert.equal(`${packageRoot()}/`, ROOT);
    assert.equal(packagePath('catalog/os.json'), join(ROOT, 'catalog', 'os.json'));
  });

  it('the data paths derived from it exist: the catalogs, the apt hooks', () => {
    for (const file of BUILTIN_CATALOG_FILES) assert.ok(existsSync(file), `${file} exists`);
    const os = findOs(loadCatalogs({ env: {} }), 'debian12-64');
    assert.ok(os, 'the OS table has debian12-64');
    const hooks = mmdebstrapArgv({ os, mirror: 'http://mirror.example/debian', packages: [] }, '/r')
      .flatMap((a) => /^--(setup|customize)-hook=(\/.*)$/.exec(a)?.[2] ?? []);
    assert.ok(hooks.length > 0, 'mmdebstrap gets hook scripts');
    for (const hook of hooks) assert.ok(hook.startsWith(join(ROOT, 'libexec')) && existsSync(hook), `${hook} is in libexec and exists`);
  });

  it('a script started on its own is the .ts source under tsx and the tsc output otherwise', () => {
    assert.equal(entryScript('service/runner/child', 'file:///anywhere/chunk-X.ts'), join(ROOT, 'src', 'service', 'runner', 'child.ts'));
    assert.equal(entryScript('service/runner/child', 'file:///anywhere/dist/bundle/main.cjs'), join(ROOT, 'dist', 'service', 'runner', 'child.js'));
    assert.ok(existsSync(entryScript('service/validation/worker', import.meta.url)), 'the checker\'s worker, as tsx runs it, exists');
  });

  it('from the bundle, a build process starts through bin/run-entry.js from the same bundle, which carries it', async () => {
    assert.deepEqual(entryCommand('service/runner/child', 'file:///anywhere/dist/bundle/main.cjs'), { script: join(ROOT, 'bin', 'run-entry.js'), args: ['service/runner/child'] });
    assert.deepEqual(entryCommand('service/runner/child', 'file:///anywhere/run.ts'), { script: join(ROOT, 'src', 'service', 'runner', 'child.ts'), args: [] });
    assert.ok(existsSync(entryCommand('x', 'file:///b/main.cjs').script), 'bin/run-entry.js exists');
    const { ENTRIES } = await import('../src/cli/main.js');
    assert.deepEqual(Object.keys(ENTRIES), ['service/runner/child'], 'the CLI\'s entries name the scripts run.ts starts');
  });
});
