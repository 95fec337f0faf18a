import { existsSync } from 'node:fs';

// The bundle (scripts/bundle-cli.mjs, made by npm run build) starts several times faster than the
// same code as dist/'s hundreds of modules; without it (a build that stopped after tsc) dist/ runs.
const BUNDLE = new URL('../dist/bundle/main.js', import.meta.url);

export const { main } = await import(existsSync(BUNDLE) ? BUNDLE.href : '../dist/cli/main.js');
