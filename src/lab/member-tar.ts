import { run } from '../exec/run.js';

/** Owners as numbers, file capabilities, and overlayfs' own attributes (opaque directories of a delta). */
export const TAR_KEEP = ['--numeric-owner', '--xattrs', '--xattrs-include=security.capability', '--xattrs-include=trusted.overlay.*'] as const;

/** A host directory stored under another name in a tar: [absolute host path, path in the archive]. */
export type Renamed = readonly [string, string];

const escapeRegex = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|,]/g, '\\$&');

/**
 * tar's argv for `entries` of `cwd` plus host directories stored under other names, without copying
 * them: each is read from / and renamed by a --transform anchored on its whole (unique) path; the
 * S flag leaves symbolic links' targets alone, which belong to the guest.
 */
export function labTarArgv(output: string, cwd: string, entries: readonly string[], renamed: readonly Renamed[], compress?: readonly string[]): [string, ...string[]] {
  const transforms = renamed.map(([host, inArchive]) => {
    if (!host.startsWith('/') || /[\n\0]/.test(host)) throw new Error(`not an absolute path: ${host}`);
    return `--transform=s,^${escapeRegex(host.slice(1))},${inArchive.replace(/[\\,&]/g, '\\$&')},S`;
  });
  return [
    'tar', ...TAR_KEEP, ...(compress ?? []), ...transforms, '-cf', output,
    '-C', cwd, ...entries,
    ...(renamed.length > 0 ? ['-C', '/', ...renamed.map(([host]) => host.slice(1))] : []),
  ];
}

export async function labTar(output: string, cwd: string, entries: readonly string[], renamed: readonly Renamed[], opts: { signal?: AbortSignal; compress?: readonly string[] } = {}): Promise<void> {
  await run(labTarArgv(output, cwd, entries, renamed, opts.compress), opts.signal ? { signal: opts.signal } : {});
}
