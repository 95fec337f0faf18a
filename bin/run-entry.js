#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCachedScript } from './cached-script.js';

// Runs one of the scripts the CLI's bundle carries (src/cli/main.ts ENTRIES), named by its path
// below src/ without extension: `node bin/run-entry.js service/runner/child`. The bundled service
// forks its build processes through this, so each starts from the bundle and its code cache, not
// from dist/'s hundreds of modules; without the bundle, dist/'s module of that name runs.
const BUNDLE = fileURLToPath(new URL('../dist/bundle/main.cjs', import.meta.url));
const name = process.argv[2] ?? '';

if (existsSync(BUNDLE)) {
  const entry = loadCachedScript(BUNDLE).exports.ENTRIES?.[name];
  if (entry === undefined) throw new Error(`the bundle carries no entry ${JSON.stringify(name)}`);
  await entry();
} else {
  if (!/^[a-z/-]+$/.test(name)) throw new Error(`no entry ${JSON.stringify(name)}`);
  await import(new URL(`../dist/${name}.js`, import.meta.url).href);
}
