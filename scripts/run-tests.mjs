#!/usr/bin/env node
// Runs node's test runner over every *.test.ts below the given folders (Node 20 has no --test globs).
//
// Files that mark themselves with OWN_LANE run in a second `node --test` beside the first: they
// spend minutes waiting on VMs booting under TCG and on lab networks, while the other lane keeps
// the machine's other core busy. Their output is printed whole when their lane ends, so neither
// lane's TAP is interleaved with the other's. --one-lane runs everything in one process.
import { createWriteStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const OWN_LANE = '/* run-tests: own lane */';

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const oneLane = args.includes('--one-lane');
const roots = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-') && a !== '--one-lane');
const files = roots.flatMap((r) => (statSync(r).isDirectory() ? collect(r, []) : [r]));
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
const own = oneLane ? [] : files.filter((f) => readFileSync(f, 'utf8').includes(OWN_LANE));
const main = files.filter((f) => !own.includes(f));

function lane(name, laneFiles, sink) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', ...flags, ...laneFiles], { stdio: ['ignore', sink ? 'pipe' : 'inherit', sink ? 'pipe' : 'inherit'] });
    if (sink) {
      child.stdout.pipe(sink, { end: false });
      child.stderr.pipe(sink, { end: false });
    }
    child.on('close', (code, signal) => resolve({ name, files: laneFiles.length, code: code ?? 1, signal, seconds: Math.round((Date.now() - started) / 1000) }));
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'vmgen-tests-'));
const ownLog = join(tmp, 'own-lane.tap');
const sink = own.length > 0 ? createWriteStream(ownLog) : undefined;
const results = await Promise.all([
  main.length > 0 ? lane('main', main) : undefined,
  own.length > 0 ? lane('own', own, sink) : undefined,
]);
if (sink) {
  await new Promise((resolve) => sink.end(resolve));
  console.log(`\n# ---- the own lane (${own.length} files, run beside the main lane) ----`);
  process.stdout.write(readFileSync(ownLog));
}
rmSync(tmp, { recursive: true, force: true });
for (const r of results.filter(Boolean)) {
  console.log(`# lane ${r.name}: ${r.files} files, ${r.seconds} s, ${r.signal ? `killed by ${r.signal}` : `exit ${r.code}`}`);
}
process.exit(results.some((r) => r && (r.code !== 0 || r.signal)) ? 1 : 0);
