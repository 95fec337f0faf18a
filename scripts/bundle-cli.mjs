#!/usr/bin/env node
// Bundles the CLI (src/cli/main.ts) into dist/bundle/, which bin/vmgen.js and bin/vmgctl.js load
// when it exists: Node 20 resolves, reads and compiles dist/'s ~200 modules (zod's ~95 among them)
// one by one on every run, and that was most of `vmgen validate`'s time. `npm run build` runs this.
//   node scripts/bundle-cli.mjs [--outdir DIR]
// The commands stay split (each a chunk loaded when run, as src/cli/commands/index.ts has them).
// zod and commander are inlined; every other dependency is imported from node_modules as usual:
// they are only loaded by commands that take long anyway (serve, worker, build), and some of them
// find files next to their own modules. vmgen's own data is found through src/package-root.ts, so
// the bundle must stay inside the package (dist/bundle/ or another folder below the root).
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What the short commands load on every run; inlining them is the point. */
const INLINED = new Set(['zod', 'commander']);

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

function dependencies() {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'));
  return Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies });
}

export async function bundleCli(outdir = `${ROOT}dist/bundle`) {
  rmSync(outdir, { recursive: true, force: true });
  const external = dependencies().filter((d) => !INLINED.has(d)).flatMap((d) => [d, `${d}/*`]);
  await build({
    entryPoints: { main: `${ROOT}src/cli/main.ts` },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external,
    // commander is CommonJS: what esbuild inlines of it calls require() for node's own modules.
    banner: { js: "import { createRequire as __vmgenCreateRequire } from 'node:module'; const require = __vmgenCreateRequire(import.meta.url);" },
    plugins: [englishOnlyZod],
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--outdir');
  await bundleCli(i === -1 ? undefined : process.argv[i + 1]);
}
