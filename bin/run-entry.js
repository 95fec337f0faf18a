#!/usr/bin/env node
'use strict';
const { existsSync } = require('node:fs');
const { CLI_BUNDLE: BUNDLE, loadCachedScript } = require('./cached-script.js');

// Runs one of the scripts the CLI's bundle carries (src/cli/main.ts ENTRIES), named by its path
// below src/ without extension: `node bin/run-entry.js service/runner/child`. The bundled service
// forks its build processes through this, so each starts from the bundle and its code cache, not
// from dist/'s hundreds of modules; without the bundle, dist/'s module of that name runs.
const name = process.argv[2] ?? '';

async function run() {
  if (existsSync(BUNDLE)) {
    const entry = loadCachedScript(BUNDLE).exports.ENTRIES?.[name];
    if (entry === undefined) throw new Error(`the bundle carries no entry ${JSON.stringify(name)}`);
    await entry();
  } else {
    if (!/^[a-z/-]+$/.test(name)) throw new Error(`no entry ${JSON.stringify(name)}`);
    await import(`../dist/${name}.js`);
  }
}

// A rejection is unhandled on purpose: Node prints it and exits with 1, as a failed entry should.
run();
