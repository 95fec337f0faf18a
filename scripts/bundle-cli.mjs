#!/usr/bin/env node
// Bundles the CLI (src/cli/main.ts) into dist/bundle/main.cjs, which bin/vmgen.js and bin/vmgctl.js
// run through bin/cached-script.js with V8's code cache when it exists: Node 20 resolves, reads and
// compiles dist/'s ~200 modules (zod's ~95 among them) one by one on every run, and has no compile
// cache of its own (module.enableCompileCache is Node 22's). `npm run build` runs this.
//   node scripts/bundle-cli.mjs [--outdir DIR]
// One CommonJS file, because only a classic script (vm.Script) takes a code cache; what a command
// loads lazily (src/cli/commands/index.ts) stays lazy: esbuild runs a module the first time it is
// required, and V8 compiles only the functions that run. zod and commander are inlined; every other
// dependency is required from node_modules as usual: they are only loaded by commands that take
// long anyway (serve, worker, build), and some of them find files next to their own modules.
// vmgen's own data is found through src/package-root.ts, so the bundle must stay inside the package
// (dist/bundle/ or another folder below the root).
// Run as a script into the default folder, it then validates examples/debian-web.conf once, which
// writes the code cache of what `vmgen validate` compiles (bin/cached-script.js).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What the short commands load on every run; inlining them is the point. */
const INLINED = new Set(['zod', 'commander']);
/** The bundle's file name in its folder: what bin/load-main.js looks for. */
export const BUNDLE_FILE = 'main.cjs';

/**
 * zod's namespaces re-export its ~60 message locales (z.locales), a third of what it weighs, and a
 * namespace object keeps them all in the bundle. vmgen reports in English and never names a locale:
 * the bundle's z.locales holds English alone (which zod itself configures on import).
 */
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: join(dirname(args.importer), args.path), namespace: 'zod-locales' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) =>
      ({ contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`, resolveDir: dirname(args.path) }));
  },
};

/**
 * commander requires node:child_process on load for its executable subcommands (`childProcess.spawn`),
 * which vmgen has none of; loading it is a few ms of every run. commander gets an object that
 * requires it on first use instead.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () =>
      ({ contents: "module.exports = { spawn: (...args) => require('node:child_process').spawn(...args) };", loader: 'js' }));
  },
};

function dependencies() {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'));
  return Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies });
}

export async function bundleCli(outdir = `${ROOT}dist/bundle`) {
  rmSync(outdir, { recursive: true, force: true });
  const external = dependencies().filter((d) => !INLINED.has(d)).flatMap((d) => [d, `${d}/*`]);
  await build({
    entryPoints: [`${ROOT}src/cli/main.ts`],
    outfile: join(outdir, BUNDLE_FILE),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external,
    // import() of a dependency becomes require(): a vm.Script has no module loader to import with.
    supported: { 'dynamic-import': false },
    // CommonJS has no import.meta; bin/cached-script.js passes the bundle's own as this parameter.
    define: { 'import.meta': '__vmgenImportMeta' },
    // ASCII only: bin/cached-script.js reads it as latin1, a one-byte string V8 takes as it is.
    charset: 'ascii',
    plugins: [englishOnlyZod, lazyChildProcessForCommander],
    logLevel: 'warning',
    // Without comments and spaces the bundle is a quarter smaller, and reading it into a string is
    // a measurable part of every command here (page faults are dear on this machine). Names stay,
    // so a stack trace still names its functions.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
  });
  // esbuild escapes what the code holds; a comment it keeps (none today, with legalComments 'none')
  // would keep its characters as they are: any non-ASCII left is written as \u{…}, which inside a
  // comment means nothing.
  const file = join(outdir, BUNDLE_FILE);
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`));
}

/** Runs `vmgen validate` of the sample once, so the code cache holds what validating compiles. */
function warmCodeCache() {
  const sample = join(ROOT, 'examples', 'debian-web.conf');
  if (!existsSync(sample)) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'vmgen.js'), 'validate', sample], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) process.stderr.write(`bundle-cli: vmgen validate of the sample failed (${r.status ?? r.signal}); no code cache made\n${r.stderr}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--outdir');
  await bundleCli(i === -1 ? undefined : process.argv[i + 1]);
  if (i === -1) warmCodeCache();
}
