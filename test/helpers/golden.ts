import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GuestCommand, GuestPlan } from '../../src/families/types.js';

/** Expected generator output lives in test/golden/; UPDATE_GOLDEN=1 rewrites it from the current output. */
const GOLDEN_DIR = fileURLToPath(new URL('../golden/', import.meta.url));
const UPDATE = (): boolean => process.env.UPDATE_GOLDEN === '1';
const HINT = 'run with UPDATE_GOLDEN=1 to rewrite the golden files, then review the diff';

export function assertGolden(relPath: string, actual: string): void {
  const file = join(GOLDEN_DIR, relPath);
  if (UPDATE()) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `no golden file test/golden/${relPath}: run the test with UPDATE_GOLDEN=1 and review the new file`);
  assert.equal(actual, readFileSync(file, 'utf8'), `output differs from test/golden/${relPath} (UPDATE_GOLDEN=1 rewrites it)`);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

/** A golden directory: exactly these files (relative paths) with exactly this content. */
export function assertGoldenTree(relDir: string, tree: ReadonlyMap<string, string>): void {
  const dir = join(GOLDEN_DIR, relDir);
  if (UPDATE()) {
    rmSync(dir, { recursive: true, force: true });
    for (const [rel, content] of tree) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), content);
    }
    return;
  }
  const onDisk = listFiles(dir).map((p) => relative(dir, p)).sort();
  assert.deepEqual(onDisk, [...tree.keys()].sort(), `golden files of ${relDir} differ in which files exist; ${HINT}`);
  for (const [rel, content] of tree) assert.equal(content, readFileSync(join(dir, rel), 'utf8'), `${relDir}/${rel}; ${HINT}`);
}

/** Shell-like quoting for reading only: the plan itself holds argv arrays. */
function shellWord(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function formatCommands(commands: readonly GuestCommand[]): string {
  return commands.map((c) => {
    const stdin = c.input === undefined ? [] : c.secret ? ['  stdin: <redacted>'] : c.input.replace(/\n$/, '').split('\n').map((l) => `  stdin: ${l}`);
    return [`# ${c.why}`, c.argv.map(shellWord).join(' '), ...stdin].join('\n');
  }).join('\n\n') + '\n';
}

/**
 * A configurator's plan as golden files: one per guest file (under root/), plus the modes, the
 * links and the commands, and the packages when given.
 */
export function guestPlanTree(plan: GuestPlan, packages?: readonly string[]): Map<string, string> {
  const tree = new Map<string, string>();
  for (const f of plan.files) tree.set(join('root', f.path), f.content);
  tree.set('files.txt', plan.files.map((f) => `${(f.mode ?? 0o644).toString(8).padStart(4, '0')} ${f.path}`).join('\n') + '\n');
  tree.set('links.txt', plan.links.map((l) => `${l.path} -> ${l.target}`).join('\n') + '\n');
  tree.set('commands.txt', formatCommands(plan.commands));
  if (packages !== undefined) tree.set('packages.txt', `${packages.join('\n')}\n`);
  return tree;
}
