import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCachedScript } from './cached-script.js';

// The bundle (scripts/bundle-cli.mjs, made by npm run build), run with V8's code cache, starts
// several times faster than the same code as dist/'s hundreds of modules; without it (a build that
// stopped after tsc) dist/ runs.
const BUNDLE = fileURLToPath(new URL('../dist/bundle/main.cjs', import.meta.url));

async function fromBundle() {
  const bundle = loadCachedScript(BUNDLE);
  return async (program, argv) => {
    try {
      return await bundle.exports.main(program, argv);
    } finally {
      bundle.save();
    }
  };
}

export const main = existsSync(BUNDLE) ? await fromBundle() : (await import('../dist/cli/main.js')).main;
