import type { Communicator } from '../communicators/types.js';
import type { Filesystem, VmLayout, VmPartition } from '../disks/layout.js';
import { EXIT_NOT_FOUND, probe, type ProbeResult } from '../communicators/probe.js';
import { fail, pass, type Check, type CheckResult } from '../families/check-kit.js';

/*
 * What only a booted VM can show: its partitions mounted where the layout puts them, with the
 * layout's file systems, and its swap partitions in use. Read through the same probes as the
 * other checks, so a recorded fake serves in tests.
 */

/** The names findmnt may report for a layout's file system: NTFS is the kernel's ntfs3 or ntfs-3g over FUSE. */
const FSTYPE_NAMES: Readonly<Partial<Record<Filesystem, readonly string[]>>> = {
  ntfs: ['ntfs', 'ntfs3', 'fuseblk'],
};

function fstypeMatches(want: Filesystem, got: string): boolean {
  return (FSTYPE_NAMES[want] ?? [want]).includes(got);
}

function why(r: ProbeResult, program: string): string {
  if (r.exitCode === EXIT_NOT_FOUND) return `${program} is not installed in the guest`;
  return r.stderr.trim().split('\n')[0] || `${program} exited with ${r.exitCode}`;
}

export function vmChecks(layout: VmLayout): Check[] {
  const partitions = layout.disks.flatMap((d) => d.partitions);
  const mounted = partitions.filter((p) => p.mount !== undefined && p.fs !== 'swap');
  const root = mounted.find((p) => p.mount === '/');
  const swaps = partitions.filter((p) => p.fs === 'swap').length;
  return [
    ...(root === undefined ? [] : [mountCheck('root file system', root)]),
    ...mounted.filter((p) => p !== root).map((p) => mountCheck(`mount ${p.mount}`, p)),
    ...(swaps === 0 ? [] : [swapCheck(swaps)]),
  ];
}

/**
 * `--mountpoint`, not a bare argument: findmnt would also match a bare argument against sources.
 * When something is mounted over the same point, the last line is the mount the guest sees.
 */
function mountCheck(name: string, part: VmPartition): Check {
  const target = part.mount ?? '/';
  return {
    name,
    async run(comm: Communicator): Promise<CheckResult> {
      const r = await probe(comm, ['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '--mountpoint', target]);
      if (r.exitCode === 1 && r.stdout.trim() === '') return fail(`nothing is mounted on ${target}, want ${part.fs} from partition ${part.name}`);
      if (r.exitCode !== 0) return fail(why(r, 'findmnt'));
      const last = r.stdout.trim().split('\n').pop() ?? '';
      const [source = '', fstype = ''] = last.trim().split(/\s+/);
      if (!source.startsWith('/dev/')) return fail(`${target} is mounted from ${source || '(nothing)'}, not a partition (/dev/…)`);
      if (!fstypeMatches(part.fs, fstype)) return fail(`${target} is ${fstype || 'of no type'} on ${source}, want ${part.fs}`);
      return pass(`${source} ${fstype} on ${target}`);
    },
  };
}

function swapCheck(want: number): Check {
  return {
    name: 'swap',
    async run(comm: Communicator): Promise<CheckResult> {
      const r = await probe(comm, ['swapon', '--show=NAME,TYPE', '--noheadings']);
      if (r.exitCode !== 0) return fail(why(r, 'swapon'));
      const active = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter(([name, type]) => name && type === 'partition').map(([name]) => name ?? '');
      const detail = active.length === 0 ? 'no swap partition in use' : `in use: ${active.join(', ')}`;
      return active.length === want ? pass(detail) : fail(`${detail}; the layout has ${want} swap partition${want === 1 ? '' : 's'}`);
    },
  };
}
