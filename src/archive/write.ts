import { run } from '../exec/run.js';
import type { ArchiveFormat } from '../targets/types.js';

/** tar writes one checkpoint line per this many bytes; progress is counted from them. */
export const CHECKPOINT_BYTES = 10 * 1024 * 1024;
const CHECKPOINT_MARK = 'vmgen-checkpoint';

/**
 * The argv that packs `entries` (names relative to `cwd`) into `output`. Owners are kept as
 * numbers and file capabilities as xattrs, so the guest extracted elsewhere is the same guest.
 */
export function archiveArgv(format: ArchiveFormat, output: string, cwd: string, entries: readonly string[]): [string, ...string[]] {
  if (format === 'zip') return ['zip', '-q', '-r', '-y', output, '--', ...entries];
  // An OVA is a plain ustar archive whose members keep the given order (the OVF descriptor first).
  if (format === 'ova') return ['tar', '--format=ustar', '--owner=0', '--group=0', '--numeric-owner', '-C', cwd, '-cf', output, '--', ...entries];
  const compress = { 'tar.zst': ['-I', 'zstd -T0 -3 -q'], 'tar.gz': ['-z'], tar: [] }[format];
  return [
    'tar', '--numeric-owner', '--xattrs', '--xattrs-include=security.capability', ...compress,
    '--record-size=10240', `--checkpoint=${CHECKPOINT_BYTES / 10240}`, `--checkpoint-action=echo=${CHECKPOINT_MARK}`,
    '-C', cwd, '-cf', output, '--', ...entries,
  ];
}

export interface WriteArchiveOptions {
  signal?: AbortSignal;
  /** Expected uncompressed size, for progress; unknown sizes report nothing. */
  expectedBytes?: number;
  progress?(fraction: number): void;
}

export async function writeArchive(format: ArchiveFormat, output: string, cwd: string, entries: readonly string[], opts: WriteArchiveOptions = {}): Promise<void> {
  let checkpoints = 0;
  await run(archiveArgv(format, output, cwd, entries), {
    cwd,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onStderr: (chunk) => {
      checkpoints += chunk.split(CHECKPOINT_MARK).length - 1;
      if (opts.expectedBytes && opts.progress) opts.progress(Math.min(0.99, (checkpoints * CHECKPOINT_BYTES) / opts.expectedBytes));
    },
  });
}
