import { run } from '../exec/run.js';
import type { ArchiveFormat } from './formats.js';

/** tar writes one checkpoint line per this many bytes; progress is counted from them. */
export const CHECKPOINT_BYTES = 10 * 1024 * 1024;
const CHECKPOINT_MARK = 'vmgen-checkpoint';

/**
 * How tar compresses each tar format, and the host tool that compression runs (tar starts it
 * itself, so no argv names it; the host-tool check reads it from here). tar.xz is not offered to
 * users: it is the inside of an LXC image, whose reader (lxc-local) unpacks xz only.
 */
export const TAR_COMPRESSION = {
  'tar.zst': { flags: ['-I', 'zstd -T0 -3 -q'], filter: ['zstd', '-T0', '-3', '-q', '-c'], toFile: (dest: string) => ['zstd', '-T0', '-3', '-q', '-f', '-o', dest], tools: ['zstd'] },
  'tar.gz': { flags: ['-z'], filter: ['gzip', '-c'], toFile: undefined, tools: ['gzip'] },
  // -0: about half the CPU time of -1 for a tenth more bytes; xz is ~20 times slower than zstd -3 as it is.
  'tar.xz': { flags: ['-I', 'xz -T0 -0'], filter: ['xz', '-T0', '-0', '-c'], toFile: undefined, tools: ['xz'] },
  tar: { flags: [], filter: undefined, toFile: undefined, tools: [] },
} as const satisfies Record<string, {
  flags: readonly string[];
  /** The compressor alone, stdin to stdout. */
  filter: readonly [string, ...string[]] | undefined;
  /** The compressor writing a file itself, where it can (the bytes then do not pass through Node). */
  toFile: ((dest: string) => [string, ...string[]]) | undefined;
  tools: readonly string[];
}>;
export type TarFormat = keyof typeof TAR_COMPRESSION;

/** A Vagrant box is a tar.gz, as `vagrant package` and vagrant-libvirt's create_box.sh write it. */
const BOX_TAR: TarFormat = 'tar.gz';

/** Archive formats whose members are already packed files and kept in the given order. */
const PLAIN_TAR: ReadonlySet<string> = new Set<ArchiveFormat>(['ova', 'image.tar']);

/** The host tools packing an archive of `format` runs. */
export function archiveTools(format: ArchiveFormat | TarFormat): string[] {
  if (format === 'zip') return ['zip'];
  if (format === 'box') return archiveTools(BOX_TAR);
  if (PLAIN_TAR.has(format)) return ['tar'];
  return ['tar', ...TAR_COMPRESSION[format as TarFormat].tools];
}

/** Owners as numbers and file capabilities as xattrs, so the guest extracted elsewhere is the same guest. */
export const ROOT_TAR_FLAGS = ['--numeric-owner', '--xattrs', '--xattrs-include=security.capability'] as const;
/**
 * tar reads and writes a record at a time, 10 KiB by default: for a VM's disk image of 900 MiB that
 * is 90,000 reads and writes, and packing it took 0.7 s where cp takes 0.25; with 1 MiB records tar
 * is as fast as cp. The end of the archive is padded to a whole record (zeros, under 1 MiB).
 */
const RECORD_BYTES = 1024 * 1024;
/** One line on stderr per CHECKPOINT_BYTES written, which writeArchive counts for progress. */
export const CHECKPOINT_FLAGS = [`--record-size=${RECORD_BYTES}`, `--checkpoint=${CHECKPOINT_BYTES / RECORD_BYTES}`, `--checkpoint-action=echo=${CHECKPOINT_MARK}`] as const;

/**
 * The argv that packs `entries` (names relative to `cwd`) into `output`. Owners are kept as
 * numbers and file capabilities as xattrs, so the guest extracted elsewhere is the same guest.
 */
export function archiveArgv(format: ArchiveFormat | TarFormat, output: string, cwd: string, entries: readonly string[]): [string, ...string[]] {
  if (format === 'zip') return ['zip', '-q', '-r', '-y', output, '--', ...entries];
  if (format === 'box') return archiveArgv(BOX_TAR, output, cwd, entries);
  // An OVA is a plain ustar archive whose members keep the given order (the OVF descriptor first).
  if (format === 'ova') return ['tar', '--format=ustar', '--owner=0', '--group=0', '--numeric-owner', '-C', cwd, '-cf', output, '--', ...entries];
  // An LXC image holds its two tarballs; not ustar, whose members stop at 8 GiB.
  if (format === 'image.tar') return ['tar', '--owner=0', '--group=0', '--numeric-owner', '-C', cwd, '-cf', output, '--', ...entries];
  const compress = TAR_COMPRESSION[format as TarFormat].flags;
  return ['tar', ...ROOT_TAR_FLAGS, ...compress, ...CHECKPOINT_FLAGS, '-C', cwd, '-cf', output, '--', ...entries];
}

/** Progress from tar's checkpoint lines on stderr, given the bytes expected. */
export function checkpointCounter(opts: Pick<WriteArchiveOptions, 'expectedBytes' | 'progress'>): (chunk: string) => void {
  let checkpoints = 0;
  return (chunk) => {
    checkpoints += chunk.split(CHECKPOINT_MARK).length - 1;
    if (opts.expectedBytes && opts.progress) opts.progress(Math.min(0.99, (checkpoints * CHECKPOINT_BYTES) / opts.expectedBytes));
  };
}

export interface WriteArchiveOptions {
  signal?: AbortSignal;
  /** Expected uncompressed size, for progress; unknown sizes report nothing. */
  expectedBytes?: number;
  progress?(fraction: number): void;
}

export async function writeArchive(format: ArchiveFormat | TarFormat, output: string, cwd: string, entries: readonly string[], opts: WriteArchiveOptions = {}): Promise<void> {
  await run(archiveArgv(format, output, cwd, entries), { cwd, ...(opts.signal ? { signal: opts.signal } : {}), onStderr: checkpointCounter(opts) });
}
