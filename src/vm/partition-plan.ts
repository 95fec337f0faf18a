import { VmgenError } from '../errors.js';
import type { Filesystem, VmDisk, VmLayout, VmPartition } from './layout.js';

/**
 * Where each partition of a disk goes, as a pure plan: numbers, offsets, type ids and flags, and
 * the sfdisk script that writes it. Every offset is computed here rather than left to sfdisk, so
 * the plan is exact, testable without a disk, and the same whichever util-linux the host has.
 */
export interface PlannedPartition {
  /** The number the kernel gives it: /dev/sdaN, /dev/loopXpN. */
  number: number;
  /** undefined for the MBR extended partition that holds the logical ones. */
  partition: VmPartition | undefined;
  startMiB: number;
  sizeMiB: number;
  /** MBR type id (hex, no 0x) or GPT type GUID. */
  type: string;
  /** MBR: the active flag; GPT: the LegacyBIOSBootable attribute. Both read by syslinux's MBR code. */
  bootable: boolean;
}

/** 1 MiB alignment: before the first partition, and for the EBR in front of each logical one. */
const ALIGN_MIB = 1;
const SECTORS_PER_MIB = 2048;
const MBR_MAX_PRIMARY = 4;
/** The first logical partition is number 5 whatever the number of primaries. */
const FIRST_LOGICAL = 5;
const MBR_EXTENDED = '5';

/** Partition type ids of the seed's Listing 4.5, plus vfat and the ESP. */
const MBR_TYPES: Record<Filesystem, string> = {
  ext2: '83', ext3: '83', ext4: '83', xfs: '83', swap: '82', ntfs: '7', vfat: 'c',
};
const MBR_ESP = 'ef';

export const GPT_TYPES = {
  linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  swap: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  msdata: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
} as const;

/** The layout marks the ESP it adds; a configured partition mounted at /boot/efi is one too. */
export function isEsp(p: VmPartition): boolean {
  return p.esp === true || (p.mount === '/boot/efi' && p.fs === 'vfat');
}

/** The partition the BIOS boot code must find: the one holding /boot, which extlinux reads. */
export function biosBootPartition(disk: VmDisk): VmPartition | undefined {
  if (!disk.boot) return undefined;
  return disk.partitions.find((p) => p.mount === '/boot') ?? disk.partitions.find((p) => p.mount === '/');
}

function typeOf(p: VmPartition, table: VmDisk['table']): string {
  if (table === 'mbr') return isEsp(p) ? MBR_ESP : MBR_TYPES[p.fs];
  if (isEsp(p)) return GPT_TYPES.esp;
  if (p.fs === 'swap') return GPT_TYPES.swap;
  if (p.fs === 'vfat' || p.fs === 'ntfs') return GPT_TYPES.msdata;
  return GPT_TYPES.linux;
}

function invalid(disk: VmDisk, message: string, hint?: string): VmgenError {
  return new VmgenError('VMG_CONFIG_INVALID', `disk ${disk.name}: ${message}`, hint === undefined ? undefined : { hint });
}

/** On-disk order: MBR puts the primaries first and the logical ones after, inside the extended one. */
function diskOrder(disk: VmDisk): { primaries: VmPartition[]; logicals: VmPartition[] } {
  if (disk.table === 'gpt') return { primaries: disk.partitions, logicals: [] };
  return {
    primaries: disk.partitions.filter((p) => p.kind === 'primary'),
    logicals: disk.partitions.filter((p) => p.kind === 'logical'),
  };
}

/** Sizes of every partition, the one without a size taking what the others and the EBRs leave. */
function sizesOf(disk: VmDisk, logicalCount: number): Map<VmPartition, number> {
  const fillers = disk.partitions.filter((p) => p.sizeMiB === undefined);
  if (fillers.length > 1) throw invalid(disk, `${fillers.map((p) => p.name).join(', ')} have no size; only one partition may fill the disk`);
  // GPT keeps its backup table in the last sectors; the whole last MiB keeps the end aligned.
  const usable = disk.sizeMiB - ALIGN_MIB - (disk.table === 'gpt' ? ALIGN_MIB : 0) - logicalCount * ALIGN_MIB;
  const fixed = disk.partitions.reduce((sum, p) => sum + (p.sizeMiB ?? 0), 0);
  const rest = usable - fixed;
  if (rest < (fillers.length > 0 ? 1 : 0)) {
    throw invalid(disk, `the partitions need ${fixed + (fillers.length > 0 ? 1 : 0) + disk.sizeMiB - usable} MiB but the disk has ${disk.sizeMiB} MiB`,
      'make the disk bigger or the partitions smaller');
  }
  return new Map(disk.partitions.map((p) => [p, p.sizeMiB ?? rest]));
}

function checkNames(disk: VmDisk): void {
  const seen = new Set<string>();
  for (const p of disk.partitions) {
    if (seen.has(p.name)) throw invalid(disk, `two partitions are named ${p.name}`);
    seen.add(p.name);
  }
}

/**
 * The partitions in disk order with their numbers and places. `firmware` decides the boot mark:
 * BIOS needs the partition holding /boot marked for the MBR boot code; UEFI finds the ESP by type.
 */
export function planPartitions(disk: VmDisk, firmware: VmLayout['firmware'] = 'bios'): PlannedPartition[] {
  checkNames(disk);
  const { primaries, logicals } = diskOrder(disk);
  const maxPrimary = MBR_MAX_PRIMARY - (logicals.length > 0 ? 1 : 0);
  if (disk.table === 'mbr' && primaries.length > maxPrimary) {
    throw invalid(disk, `${primaries.length} primary partitions${logicals.length > 0 ? ' and an extended one' : ''} do not fit in an MBR (4 at most)`,
      "make some partitions 'type = logical', or set 'table = gpt'");
  }
  const sizes = sizesOf(disk, logicals.length);
  const boot = firmware === 'bios' ? biosBootPartition(disk) : undefined;
  const plan: PlannedPartition[] = [];
  let at = ALIGN_MIB;
  const place = (number: number, partition: VmPartition, startMiB: number): void => {
    plan.push({ number, partition, startMiB, sizeMiB: sizes.get(partition)!, type: typeOf(partition, disk.table), bootable: partition === boot });
  };
  primaries.forEach((p, i) => {
    place(i + 1, p, at);
    at += sizes.get(p)!;
  });
  if (logicals.length > 0) {
    const extendedSize = logicals.reduce((sum, p) => sum + ALIGN_MIB + sizes.get(p)!, 0);
    plan.push({ number: primaries.length + 1, partition: undefined, startMiB: at, sizeMiB: extendedSize, type: MBR_EXTENDED, bootable: false });
    logicals.forEach((p, i) => {
      at += ALIGN_MIB; // the EBR that links this logical partition to the next
      place(FIRST_LOGICAL + i, p, at);
      at += sizes.get(p)!;
    });
  }
  return plan;
}

/** Which partition number each of the disk's partitions gets, by partition name. */
export function partitionDevices(disk: VmDisk): Record<string, number> {
  const numbers: Record<string, number> = {};
  for (const entry of planPartitions(disk)) if (entry.partition) numbers[entry.partition.name] = entry.number;
  return numbers;
}

/** sfdisk quotes names with "…" and has no escape: keep names to characters that cannot break a line. */
function gptName(name: string): string {
  return name.replace(/[^A-Za-z0-9._+-]/g, '_').slice(0, 36);
}

function scriptLine(entry: PlannedPartition, table: VmDisk['table']): string {
  const fields = [`start=${entry.startMiB * SECTORS_PER_MIB}`, `size=${entry.sizeMiB * SECTORS_PER_MIB}`, `type=${entry.type}`];
  if (table === 'gpt' && entry.partition) fields.push(`name="${gptName(entry.partition.name)}"`);
  if (entry.bootable) fields.push(table === 'gpt' ? 'attrs="LegacyBIOSBootable"' : 'bootable');
  return fields.join(', ');
}

/** Input for `sfdisk DEVICE`: the label, then one line per partition in disk order, in sectors. */
export function sfdiskScript(disk: VmDisk, firmware: VmLayout['firmware'] = 'bios'): string {
  const header = [`label: ${disk.table === 'gpt' ? 'gpt' : 'dos'}`, 'unit: sectors', 'sector-size: 512'];
  const lines = planPartitions(disk, firmware).map((entry) => scriptLine(entry, disk.table));
  return `${header.join('\n')}\n\n${lines.join('\n')}\n`;
}
