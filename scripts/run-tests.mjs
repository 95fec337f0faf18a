#!/usr/bin/env node
// Runs node's test runner over every *.test.ts below the given folders (Node 20 has no --test globs).
//
// Node runs availableParallelism() - 1 test files at once: one on these 2-core machines, so the
// ~160 files ran one after another, 30 minutes. The files of test/integration (real builds,
// containers and TCG boots: 1,410 of the 1,640 s the suites took) still run one at a time, as
// before, and all the other files run beside them in a second runner, on the other core: mostly a
// build or a boot keeps one core busy. The second runner's report is printed whole when it ends,
// between two lines of the first's; the exit code is the worse of the two.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
const files = roots.flatMap((r) => (statSync(r).isDirectory() ? collect(r, []) : [r]));
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

const argv = (list) => ['--import', 'tsx', '--test', ...flags, ...list];
const isIntegration = (f) => f.split(sep).includes('integration');
const integration = files.filter(isIntegration);
const rest = files.filter((f) => !isIntegration(f));

/** Forwards a stream to `out` a whole line at a time, so another report can be put between two lines. */
function forwardLines(stream, out) {
  let partial = '';
  stream.setEncoding('utf8').on('data', (s) => {
    const text = partial + s;
    const end = text.lastIndexOf('\n') + 1;
    partial = text.slice(end);
    if (end > 0) out.write(text.slice(0, end));
  });
  return () => partial !== '' && out.write(`${partial}\n`);
}

const exited = (child) => new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));

async function main() {
  if (integration.length === 0 || rest.length === 0) {
    const child = spawn(process.execPath, argv(files), { stdio: 'inherit' });
    return exited(child);
  }
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-tests-'));
  const log = join(dir, 'beside.log');
  const fd = openSync(log, 'w');
  const beside = spawn(process.execPath, argv(rest), { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const integrationRun = spawn(process.execPath, argv(integration), { stdio: ['ignore', 'pipe', 'pipe'] });
  const flushOut = forwardLines(integrationRun.stdout, process.stdout);
  const flushErr = forwardLines(integrationRun.stderr, process.stderr);
  process.stdout.write(`run-tests: ${integration.length} file(s) of test/integration here, one at a time; the other ${rest.length} file(s) beside them, reported when they end\n`);
  const besideCode = exited(beside).then((code) => {
    process.stdout.write(`\nrun-tests: the ${rest.length} file(s) outside test/integration ended (exit ${code}); their report:\n`);
    process.stdout.write(readFileSync(log, 'utf8'));
    process.stdout.write(`run-tests: end of that report; test/integration goes on\n\n`);
    return code;
  });
  const integrationCode = await exited(integrationRun);
  flushOut();
  flushErr();
  const other = await besideCode;
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`run-tests: test/integration exit ${integrationCode}, the other files exit ${other}\n`);
  return Math.max(integrationCode, other);
}

process.exit(await main());
