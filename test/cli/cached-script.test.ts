import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

/**
 * bin/cached-script.js, which runs the CLI's bundle with V8's code cache: on a small CommonJS file,
 * a cache that is missing, of another file, corrupt or unwritable never changes what runs.
 */
const CACHED_SCRIPT = pathToFileURL(fileURLToPath(new URL('../../bin/cached-script.js', import.meta.url))).href;
const dir = mkdtempSync(join(tmpdir(), 'vmgen-cached-script-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, body, 'latin1');
  return file;
}

/**
 * Loads `file` in a node of its own (within one process V8 keeps what it compiled and may not read a
 * cache at all), saves its cache and says what its `answer()` returned and whether the cache was taken.
 */
function answer(file: string, cacheFile?: string): { value: string; cacheUsed: boolean } {
  const code = `const { loadCachedScript } = await import(${JSON.stringify(CACHED_SCRIPT)});
    const s = loadCachedScript(${JSON.stringify(file)}${cacheFile === undefined ? '' : `, ${JSON.stringify(cacheFile)}`});
    const value = s.exports.answer();
    s.save();
    process.stdout.write(JSON.stringify({ value, cacheUsed: s.cacheUsed }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { value: string; cacheUsed: boolean };
}

describe('loadCachedScript', () => {
  it('runs the file as CommonJS with its own import.meta.url, and writes a cache it takes next time', () => {
    const file = script('a.cjs', "module.exports.answer = () => `${__vmgenImportMeta.url} ${typeof require('node:path').join}`;");
    const first = answer(file);
    assert.equal(first.value, `${pathToFileURL(file).href} function`);
    assert.equal(first.cacheUsed, false);
    const second = answer(file);
    assert.equal(second.value, first.value);
    assert.equal(second.cacheUsed, true);
  });

  it('ignores the cache of another file of the same length, and replaces it', () => {
    const file = script('b.cjs', "module.exports.answer = () => 'one';");
    answer(file);
    writeFileSync(file, "module.exports.answer = () => 'two';", 'latin1');
    // The same length, a later mtime: only the cache's first line tells the two apart.
    const later = new Date(statSync(file).mtimeMs + 5000);
    utimesSync(file, later, later);
    const run = answer(file);
    assert.equal(run.value, 'two');
    assert.equal(run.cacheUsed, false);
    assert.deepEqual(answer(file), { value: 'two', cacheUsed: true });
  });

  it('runs without a cache V8 refuses, and writes a good one', () => {
    const file = script('c.cjs', "module.exports.answer = () => 'c';");
    const cacheFile = `${file}.cache`;
    answer(file);
    const good = readFileSync(cacheFile);
    const eol = good.indexOf(10);
    writeFileSync(cacheFile, Buffer.concat([good.subarray(0, eol + 1), Buffer.from('not a code cache')]));
    assert.deepEqual(answer(file), { value: 'c', cacheUsed: false });
    assert.deepEqual(answer(file), { value: 'c', cacheUsed: true });
  });

  it('runs when the cache cannot be written', () => {
    const file = script('d.cjs', "module.exports.answer = () => 'd';");
    const cacheFile = join(dir, 'no-such-dir', 'd.cjs.cache');
    assert.deepEqual(answer(file, cacheFile), { value: 'd', cacheUsed: false });
    assert.deepEqual(answer(file, cacheFile), { value: 'd', cacheUsed: false });
  });
});
