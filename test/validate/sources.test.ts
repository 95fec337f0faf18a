import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { dirSources, memorySources, walkSource, type ConfigSources } from '../../src/config/sources.js';
import { MAX_INLINE_BYTES, MAX_SOURCE_BYTES } from '../../src/validate/sources.js';
import { run } from '../helpers/cli.js';

/** [files] and [scripts] sources are checked beside the config at load time, at the value's line. */
const catalogs = loadCatalogs({ env: {} });

const config = (files: string, scripts = '') =>
  `[hardware]\n    vm_id = m1\n    os = debian12-64\n[config]\n    root_passwd = pw\n[files]\n${files}[scripts]\n${scripts}`;
const fileEntry = (id: string, key: string) => `    [[${id}]]\n        path = /srv/${id}\n        ${key}\n`;
const scriptEntry = (id: string, key: string) => `    [[${id}]]\n        ${key}\n`;

const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

const sourceErrors = (text: string, sources?: ConfigSources) =>
  loadConfig(text, { catalogs, ...(sources ? { sources } : {}) }).diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => ({ code: d.code, line: d.line, message: d.message }));

describe('config sources at load time', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmgen-sources-'));
    mkdirSync(join(dir, 'site', 'css'), { recursive: true });
    writeFileSync(join(dir, 'site', 'index.html'), '<h1>lab</h1>\n');
    writeFileSync(join(dir, 'site', 'css', 'a.css'), 'h1{}\n');
    writeFileSync(join(dir, 'stamp.sh'), 'echo hi\n');
    symlinkSync('/etc/passwd', join(dir, 'passwd-link'));
    symlinkSync('site', join(dir, 'site-link'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes a directory and a file that are there', () => {
    const text = config(fileEntry('site', 'source = site'), scriptEntry('stamp', 'source = stamp.sh'));
    assert.deepEqual(sourceErrors(text, dirSources(dir)), []);
  });

  const cases: Array<[name: string, entry: string, code: string, message: RegExp]> = [
    ['a missing file', fileEntry('gone', 'source = nothing-here'), 'CFG_SOURCE_MISSING', /no file or directory 'nothing-here'/],
    ['a link', fileEntry('pw', 'source = passwd-link'), 'CFG_SOURCE_LINK', /symbolic link/],
    ['a path through a link', fileEntry('ix', 'source = site-link/index.html'), 'CFG_SOURCE_LINK', /symbolic link/],
    ['a path climbing out', fileEntry('up', 'source = ../etc/passwd'), 'CFG_SOURCE_OUTSIDE', /not a path inside/],
    ['an absolute path', fileEntry('abs', 'source = /etc/passwd'), 'CFG_SOURCE_OUTSIDE', /not a path inside/],
  ];
  for (const [name, entry, code, message] of cases) {
    it(`refuses ${name} at the source's line`, () => {
      const text = config(entry);
      const found = sourceErrors(text, dirSources(dir));
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.equal(found[0]!.code, code);
      assert.equal(found[0]!.line, lineOf(text, 'source ='));
      assert.match(found[0]!.message, message);
    });
  }

  it('refuses a script source that is a directory', () => {
    const text = config('', scriptEntry('s', 'source = site'));
    assert.deepEqual(sourceErrors(text, dirSources(dir)).map((d) => [d.code, d.line]), [['CFG_SOURCE_KIND', lineOf(text, 'source = site')]]);
  });

  it('refuses a link inside a source directory', () => {
    symlinkSync('/etc/shadow', join(dir, 'site', 'css', 'evil'));
    try {
      const text = config(fileEntry('site', 'source = site'));
      const found = sourceErrors(text, dirSources(dir));
      assert.deepEqual(found.map((d) => d.code), ['CFG_SOURCE_LINK']);
      assert.match(found[0]!.message, /site\/css\/evil is a symbolic link/);
    } finally {
      rmSync(join(dir, 'site', 'css', 'evil'));
    }
  });

  it('bounds the sources together and inline texts one by one', () => {
    const big = Buffer.alloc(MAX_SOURCE_BYTES / 2 + 1);
    const sources = memorySources(new Map([['a.bin', big], ['b.bin', big]]));
    const text = config(fileEntry('a', 'source = a.bin') + fileEntry('b', 'source = b.bin'));
    assert.deepEqual(sourceErrors(text, sources).map((d) => [d.code, d.line]), [['CFG_SOURCE_SIZE', lineOf(text, 'source = b.bin')]]);
    const inline = config(fileEntry('c', `content = ${'x'.repeat(MAX_INLINE_BYTES + 1)}`));
    assert.deepEqual(sourceErrors(inline).map((d) => d.code), ['CFG_INLINE_SIZE']);
  });

  it('checks a request\'s files the same way (memory sources)', () => {
    const sources = memorySources(new Map([['site/index.html', Buffer.from('hi')]]));
    assert.deepEqual(sourceErrors(config(fileEntry('site', 'source = site')), sources), []);
    assert.deepEqual(sourceErrors(config(fileEntry('x', 'source = other')), sources).map((d) => d.code), ['CFG_SOURCE_MISSING']);
  });

  it('checks nothing beside the config without sources', () => {
    assert.deepEqual(sourceErrors(config(fileEntry('gone', 'source = nothing-here'))), []);
  });

  it('walks a source tree in order, parents first', () => {
    const tree = walkSource(dirSources(dir), 'site');
    assert.deepEqual(tree, { dirs: ['', 'css'], files: [{ rel: 'css/a.css', bytes: 5 }, { rel: 'index.html', bytes: 13 }] });
  });

  it('vmgen validate and render look beside the config file, wherever the command runs', async () => {
    const text = config(fileEntry('site', 'source = site') + fileEntry('gone', 'source = nothing-here'));
    writeFileSync(join(dir, 'm.conf'), text);
    const validated = await run('vmgen', ['validate', join(dir, 'm.conf')], tmpdir());
    assert.equal(validated.code, 1, validated.stderr);
    assert.match(validated.stderr, new RegExp(`m\\.conf:${lineOf(text, 'nothing-here')}:\\d+: error: no file or directory 'nothing-here'`));
    assert.doesNotMatch(validated.stderr, /'site'/);
    const rendered = await run('vmgen', ['render', join(dir, 'm.conf'), '-t', 'lxc', '-o', join(dir, 'out')], tmpdir());
    assert.equal(rendered.code, 1, rendered.stderr);
    assert.match(rendered.stderr, /no file or directory 'nothing-here'/);
  });
});
