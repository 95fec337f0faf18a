import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The CLI's bundle (scripts/bundle-cli.mjs, which npm run build runs into dist/bundle) against the
 * same sources run unbundled under tsx: the same output and exit code, run from a directory outside
 * the checkout, so the bundle finds vmgen's own files through src/package-root.ts and not the cwd.
 * The bundle is made here, into a folder of its own below dist/, so the test needs no prior build;
 * it runs as bin/load-main.js runs it, through bin/cached-script.js, so the first case writes the
 * code cache and the others run with it.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHED_SCRIPT = pathToFileURL(join(ROOT, 'bin', 'cached-script.js')).href;
const TSX = import.meta.resolve('tsx');
const SAMPLE = join(ROOT, 'examples', 'debian-web.conf');

let bundleDir: string;
let work: string;

/** Runs `main(program, argv)` from one of the two in a child node, in `work`. */
function run(which: 'bundle' | 'source', program: 'vmgen' | 'vmgctl', argv: string[], loaderHook = '') {
  const load = which === 'bundle'
    ? `const { loadCachedScript } = await import(${JSON.stringify(CACHED_SCRIPT)}); const bundle = loadCachedScript(${JSON.stringify(join(bundleDir, 'main.cjs'))}); const { main } = bundle.exports;`
    : `const { main } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'cli', 'main.ts')).href)});`;
  const save = which === 'bundle' ? ' bundle.save();' : '';
  const code = `${loaderHook}${load} process.exitCode = await main(${JSON.stringify(program)}, ${JSON.stringify(argv)});${save}`;
  const node = which === 'bundle' ? ['--input-type=module', '-e', code] : ['--import', TSX, '--input-type=module', '-e', code];
  const r = spawnSync(process.execPath, node, { cwd: work, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  bundleDir = mkdtempSync(join(ROOT, 'dist', 'bundle-test-'));
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle-cli.mjs'), '--outdir', bundleDir], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `bundle-cli.mjs:\n${r.stdout}${r.stderr}`);
  work = mkdtempSync(join(tmpdir(), 'vmgen-bundle-'));
  copyFileSync(SAMPLE, join(work, 'web.conf'));
  const text = readFileSync(SAMPLE, 'utf8');
  const broken = text.replace(/^(\s*num_cpu\s*=\s*).*$/m, '$1lots').replace(/^(\s*os\s*=\s*).*$/m, '$1nosuchos-64');
  assert.notEqual(broken, text, 'the sample has the num_cpu and os lines this test breaks');
  writeFileSync(join(work, 'broken.conf'), broken);
});

after(() => {
  rmSync(bundleDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('the CLI bundle', () => {
  const cases: { program: 'vmgen' | 'vmgctl'; argv: string[]; status: number }[] = [
    { program: 'vmgen', argv: ['validate', 'web.conf'], status: 0 },
    { program: 'vmgen', argv: ['validate', 'web.conf', '--json'], status: 0 },
    { program: 'vmgen', argv: ['validate', 'web.conf', '-t', 'lxc'], status: 0 },
    { program: 'vmgen', argv: ['validate', SAMPLE, '-t', 'qemu', '-f', 'box'], status: 1 },
    { program: 'vmgen', argv: ['validate', 'broken.conf'], status: 1 },
    { program: 'vmgen', argv: ['validate', 'broken.conf', '--json'], status: 1 },
    { program: 'vmgen', argv: ['validate', 'missing.conf'], status: 1 },
    { program: 'vmgen', argv: ['catalog', 'os', '--json'], status: 0 },
    { program: 'vmgen', argv: ['catalog', 'apps'], status: 0 },
    { program: 'vmgen', argv: ['get', 'web.conf', 'hardware.os'], status: 0 },
    { program: 'vmgen', argv: ['--help'], status: 0 },
    { program: 'vmgctl', argv: ['--help'], status: 0 },
  ];
  for (const c of cases) {
    it(`${c.program} ${c.argv.join(' ')}: the same output and exit code as the sources`, () => {
      const bundled = run('bundle', c.program, c.argv);
      const source = run('source', c.program, c.argv);
      assert.equal(source.status, c.status, `the sources' exit code\n${source.stderr}`);
      assert.deepEqual(bundled, source);
    });
  }

  it('the catalog it reads is the package\'s, found from the bundle\'s folder and not from the cwd', () => {
    const r = run('bundle', 'vmgen', ['catalog', 'os', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const ids = (JSON.parse(r.stdout) as { id: string }[]).map((o) => o.id);
    const builtin = (JSON.parse(readFileSync(join(ROOT, 'catalog', 'os.json'), 'utf8')) as { os: { id: string }[] }).os.map((o) => o.id);
    assert.deepEqual(ids, builtin);
  });

  it('no module in it finds a file relative to its own URL, which in a bundle is the bundle\'s', () => {
    const relative = /new URL\([^()]*__vmgenImportMeta\.url\)/g;
    assert.deepEqual(readFileSync(join(bundleDir, 'main.cjs'), 'utf8').match(relative) ?? [], []);
  });

  it('is ASCII, which bin/cached-script.js reads as latin1', () => {
    const text = readFileSync(join(bundleDir, 'main.cjs'), 'latin1');
    assert.equal(/[^\x00-\x7f]/.exec(text)?.[0], undefined);
  });

  it('has a code cache once a command ran, made for this bundle', () => {
    const cache = readFileSync(join(bundleDir, 'main.cjs.cache'));
    const key = cache.toString('latin1', 0, cache.indexOf(10)).split(' ');
    assert.equal(key[0], process.versions.v8, `the cache's first line names V8's version (${key.join(' ')})`);
    assert.equal(Number(key[2]), statSync(join(bundleDir, 'main.cjs')).size, 'and the bundle\'s size');
  });

  it('its validate requires node\'s modules only: no service package, nothing that packs or spawns', () => {
    // Every require() the bundle makes goes through Module._load.
    const hook = [
      "import { createRequire } from 'node:module';",
      "const Module = createRequire(import.meta.url)('node:module');",
      "const load = Module._load;",
      "Module._load = function (request, ...rest) { process.stderr.write('LOADED ' + request + '\\n'); return load.call(this, request, ...rest); };",
    ].join('\n');
    const r = run('bundle', 'vmgen', ['validate', 'web.conf'], `${hook}\n`);
    assert.equal(r.status, 0, r.stderr);
    const loaded = [...new Set(r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice('LOADED '.length)))];
    assert.ok(loaded.includes('node:fs'), `the hook saw the bundle's requires (${loaded.join(', ')})`);
    // bin/cached-script.js is CommonJS, so importing it passes through the hook too; the bundle's own
    // requires are the rest.
    assert.deepEqual(loaded.filter((u) => !isBuiltin(u) && u !== fileURLToPath(CACHED_SCRIPT)), []);
    // What only packing, spawning and hashing use: the targets' Commanders (src/targets/commanders.ts)
    // import them, and validation reads the registry's rows only.
    const packaging = loaded.filter((u) => /^node:(child_process|crypto|stream|stream\/promises|fs\/promises|zlib|worker_threads)$/.test(u));
    assert.deepEqual(packaging, []);
  });
});
