#!/usr/bin/env node
// Builds the web page into dist/web: the TypeScript in web/src compiled for the browser (no
// bundler: the modules load each other), next to index.html and style.css. `npm run build` runs it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('.', import.meta.url));
const out = fileURLToPath(new URL('../dist/web/', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const r = spawnSync(process.execPath, [tsc, '-p', `${web}tsconfig.json`], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
for (const file of ['index.html', 'style.css']) copyFileSync(`${web}${file}`, `${out}${file}`);
