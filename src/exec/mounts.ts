import { readFile } from 'node:fs/promises';
import { run } from './run.js';

/** mountinfo writes space, tab, newline and backslash in paths as octal escapes (\040…). */
export function decodeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mount points at or below `dir` in a mountinfo text, deepest first (the order they unmount in). */
export function mountPointsUnder(dir: string, mountinfo: string): string[] {
  const base = dir.replace(/\/+$/, '');
  return mountinfo.split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined && field !== '')
    .map(decodeMountPath)
    .filter((mp) => mp === base || mp.startsWith(`${base}/`))
    .sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
}

export async function mountedUnder(dir: string): Promise<string[]> {
  return mountPointsUnder(dir, await readFile('/proc/self/mountinfo', 'utf8'));
}

/** Lazy unmount as a last resort, so a busy mount cannot survive the build that made it. */
export async function unmount(path: string): Promise<void> {
  try {
    await run(['umount', path]);
  } catch {
    await run(['umount', '--lazy', path]);
  }
}

/**
 * Unmounts everything at or below `dir`, deepest first, lazily where a mount is busy, so what a
 * killed build left mounted can be deleted without reaching through the mount into what it shows.
 * Returns the mount points that are still there.
 */
export async function unmountUnder(dir: string): Promise<string[]> {
  for (const mp of await mountedUnder(dir)) await unmount(mp).catch(() => undefined);
  return mountedUnder(dir);
}
