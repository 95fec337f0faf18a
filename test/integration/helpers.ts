import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mountPointsUnder } from '../../src/exec/mounts.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const IS_ROOT = process.getuid?.() === 0;

export interface ProcResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The process's id: what its cache work directories' `owner` files hold. */
  pid: number;
}

/** Runs the built CLI as a separate process, as a user would: real exit codes, real signals. */
export function vmgen(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ProcResult> {
  return spawnCapture(process.execPath, [join(ROOT, 'bin', 'vmgen.js'), ...args], opts);
}

export function spawnCapture(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, pid: child.pid ?? -1 }));
  });
}

/** Waits for the container's systemd to finish booting; returns its last state. */
export async function systemState(name: string, lxcpath: string): Promise<string> {
  let state = '';
  for (let i = 0; i < 60 && !/^(running|degraded)$/.test(state); i++) {
    const r = await spawnCapture('lxc-attach', ['-n', name, '-P', lxcpath, '--', 'systemctl', 'is-system-running']);
    state = r.stdout.trim();
    if (!/^(running|degraded)$/.test(state)) await new Promise((res) => setTimeout(res, 500));
  }
  return state;
}

/** The last non-empty line of stdout: where `vmgen build` prints the archive's path. */
export function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/**
 * The cache work directories (ROOT/work/*) a process made and left: the cache is shared, and other
 * tests' builds and verifies come and go there meanwhile.
 */
export function workDirsOwnedBy(cacheRoot: string, pid: number): string[] {
  const work = join(cacheRoot, 'work');
  if (!existsSync(work)) return [];
  return readdirSync(work).filter((name) => {
    try {
      return readFileSync(join(work, name, 'owner'), 'utf8').split('\n')[0] === String(pid);
    } catch {
      return false;
    }
  });
}

/** Mount points under `dir`, from the kernel's own table. */
export function mountsUnder(dir: string): string[] {
  return mountPointsUnder(dir, readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Processes whose command line mentions `needle` (a build's private path), other than this one. */
export function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) found.push(`${pid}: ${cmd}`);
    } catch {
      continue;
    }
  }
  return found;
}

/**
 * Processes still using a work directory of one build (process `pid`) in the shared cache: those
 * mentioning a work directory that was not there before the build (`before`) and that is now
 * gone or owned by it. Other tests' builds and verifies running meanwhile own theirs.
 */
export function strayProcessesOf(cacheRoot: string, pid: number, before: ReadonlySet<string>): string[] {
  const work = join(cacheRoot, 'work');
  const owned = new Set(workDirsOwnedBy(cacheRoot, pid));
  return processesMentioning(`${work}/`).filter((line) => {
    const names = [...line.matchAll(new RegExp(`${work.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/([^/\\s]+)`, 'g'))].map((m) => m[1]!);
    return names.some((name) => !before.has(name) && (owned.has(name) || !existsSync(join(work, name))));
  });
}

/** The entries of a cache's work directory now. */
export function workDirNames(cacheRoot: string): Set<string> {
  const work = join(cacheRoot, 'work');
  return new Set(existsSync(work) ? readdirSync(work) : []);
}

/** Everything in a directory, recursively, as relative paths (to show what a failure left). */
export function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      out.push(join(rel, e.name));
      if (e.isDirectory() && !e.isSymbolicLink()) walk(join(d, e.name), join(rel, e.name));
    }
  };
  walk(dir, '');
  return out;
}
