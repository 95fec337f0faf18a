'use strict';
const { existsSync } = require('node:fs');
const { CLI_BUNDLE: BUNDLE, loadCachedScript } = require('./cached-script.js');

// The bundle (scripts/bundle-cli.mjs, made by npm run build), run with V8's code cache, starts
// several times faster than the same code as dist/'s hundreds of modules; without it (a build that
// stopped after tsc) dist/ runs. bin/ is CommonJS (bin/package.json): Node 20 starts a CommonJS
// entry without its ES module loader, a few ms of every command.

function fromBundle() {
  const bundle = loadCachedScript(BUNDLE);
  return async (program, argv) => {
    try {
      return await bundle.exports.main(program, argv);
    } finally {
      bundle.save();
    }
  };
}

/** Runs the CLI named `program` on `argv` and resolves to its exit code. */
const main = existsSync(BUNDLE) ? fromBundle() : async (program, argv) => (await import('../dist/cli/main.js')).main(program, argv);

module.exports = { main };
