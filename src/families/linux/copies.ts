import { posix } from 'node:path';
import type { ResolvedSpec } from '../../config/resolve.js';
import type { SourceTree } from '../../config/sources.js';
import type { GuestCommand, GuestCopy } from '../types.js';

/*
 * [files] as a guest plan's copies, and what placing one takes once its source has been read:
 * which guest paths it writes, and the commands that give its directories their mode and every
 * entry its owner. Pure; families/apply.ts writes the files through the communicator.
 */

export function guestCopies(spec: ResolvedSpec): GuestCopy[] {
  return spec.provision.files.map((f) => ({ label: `[files] ${f.id}`, path: f.guestPath, from: f.from, owner: f.owner, group: f.group, mode: f.mode }));
}

/** A directory holding files of `mode`: searchable by whoever may read them (0644 → 0755, 0640 → 0750). */
export function dirMode(mode: number): number {
  return (mode | ((mode & 0o444) >> 2)) & 0o7777;
}

export interface CopyEntry {
  /** Where it goes in the guest. */
  path: string;
  /** Relative to the source ('' for the source itself); inline texts have none. */
  rel?: string;
  kind: 'file' | 'dir';
}

/** What a copy writes: an inline text or a source file is one file; a directory, its whole tree, parents first. */
export function copyEntries(copy: GuestCopy, tree?: SourceTree): CopyEntry[] {
  if (copy.from.kind === 'inline') return [{ path: copy.path, kind: 'file' }];
  if (tree === undefined) throw new Error(`${copy.label}: no source tree for ${copy.from.source}`);
  const at = (rel: string): string => (rel === '' ? copy.path : posix.join(copy.path, rel));
  return [
    ...tree.dirs.map((rel) => ({ path: at(rel), rel, kind: 'dir' as const })),
    ...tree.files.map((f) => ({ path: at(f.rel), rel: f.rel, kind: 'file' as const })),
  ];
}

/** Paths per command: a directory of thousands of files must not exceed the argument list's limit. */
const CHUNK = 500;

function chunked(prefix: string[], paths: readonly string[], why: string): GuestCommand[] {
  const out: GuestCommand[] = [];
  for (let i = 0; i < paths.length; i += CHUNK) out.push({ argv: [...prefix, '--', ...paths.slice(i, i + CHUNK)], why });
  return out;
}

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

/**
 * Run in the guest after every account exists, so owners such as www-data or a [users] user are
 * names the guest knows. `-h`: a link in the guest is changed itself, never what it points to.
 */
export function copyFinishCommands(copy: GuestCopy, entries: readonly CopyEntry[]): GuestCommand[] {
  const dirs = entries.filter((e) => e.kind === 'dir').map((e) => e.path);
  const owner = `${copy.owner}:${copy.group}`;
  return [
    // An empty directory has no file to create it; the rest exist already.
    ...chunked(['mkdir', '-p'], dirs, `${copy.label}: make its directories`),
    ...chunked(['chmod', octal(dirMode(copy.mode))], dirs, `${copy.label}: directory mode`),
    ...chunked(['chown', '-h', owner], entries.map((e) => e.path), `${copy.label}: owner ${owner}`),
  ];
}

/** A line per copy for `vmgen render`: where it goes, from what, owned by whom. */
export function describeCopies(copies: readonly GuestCopy[]): string {
  const lines = ['# [files] and first-boot [scripts]: placed after the configuration\'s files, owners set after the accounts exist.'];
  for (const c of copies) {
    const from = c.from.kind === 'inline' ? 'inline text' : `${c.from.source} (beside the config)`;
    lines.push(`${c.path}  <- ${from}  ${c.owner}:${c.group} ${octal(c.mode)}  ${c.label}`);
  }
  return `${lines.join('\n')}\n`;
}
