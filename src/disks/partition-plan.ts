import { VmgenError } from '../errors.js';
import { filesystem } from '../catalog/filesystems.js';
import type { VmDisk, VmLayout, VmPartition } from './layout.js';

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
  if (table === 'mbr') return isEsp(p) ? MBR_ESP : filesystem(p.fs).mbrType;
  if (isEsp(p)) return GPT_TYPES.esp;
  if (p.fs === 'swap') return GPT_TYPES.swap;
  if (p.fs === 'vfat' || p.fs === 'ntfs') return GPT_TYPES.msdata;
  return GPT_TYPES.linux;
}

/** What keeps a disk's partitions from being laid out; `partition` names the one at fault, if one is. */
export interface PartitionProblem {
  code: 'CFG_PARTITION_SIZE' | 'CFG_PARTITIONS_TOO_BIG' | 'CFG_TOO_MANY_PRIMARY' | 'CFG_PARTITION_NAME';
  message: string;
  hint?: string;
  partition?: string;
}

/**
 * Every reason planPartitions would refuse the disk, without throwing: validation reports these at
 * the config's lines, on the same layout the build plans (the ESP vmgen adds included).
 */
export function partitionProblems(disk: VmDisk): PartitionProblem[] {
  const problems: PartitionProblem[] = [];
  const seen = new Set<string>();
  for (const p of disk.partitions) {
    if (seen.has(p.name)) {
      problems.push({ code: 'CFG_PARTITION_NAME', partition: p.name, message: `two partitions are named ${p.name}`,
        ...(p.name === 'esp' ? { hint: "vmgen adds a partition 'esp' for UEFI boot; rename yours" } : {}) });
    }
    seen.add(p.name);
  }
  const { primaries, logicals } = diskOrder(disk);
  const maxPrimary = MBR_MAX_PRIMARY - (logicals.length > 0 ? 1 : 0);
  if (disk.table === 'mbr' && primaries.length > maxPrimary) {
    const esp = primaries.some((p) => p.esp === true);
    problems.push({
      code: 'CFG_TOO_MANY_PRIMARY',
      message: `[${disk.name}] has ${primaries.length} primary partitions${esp ? ', the EFI system partition vmgen adds for UEFI included,' : ''}${logicals.length > 0 ? ' plus an extended one for the logical ones' : ''}; MBR holds 4`,
      hint: logicals.length > 0 ? 'make one more partition logical' : "make some partitions 'type = logical', or set 'table = gpt'",
    });
  }
  const fillers = disk.partitions.filter((p) => p.sizeMiB === undefined);
  for (const p of fillers.slice(0, -1)) {
    problems.push({ code: 'CFG_PARTITION_SIZE', partition: p.name, message: `[${p.name}] has no size; only one partition may fill the rest of the disk`, hint: "add 'size = 2GB'" });
  }
  const need = spaceNeeded(disk, logicals.length);
  if (need > disk.sizeMiB) {
    problems.push({
      code: 'CFG_PARTITIONS_TOO_BIG',
      message: `the partitions of [${disk.name}] need ${need} MiB${disk.partitions.some((p) => p.esp === true) ? ' (the EFI system partition vmgen adds included)' : ''} but the disk has ${disk.sizeMiB} MiB`,
      hint: `make the disk at least ${Math.ceil(need / 1024)}GB, or the partitions smaller`,
    });
  }
  return problems;
}

/** MiB the disk must have: alignment, GPT's backup table, an EBR per logical one, every size, 1 MiB for a filler. */
function spaceNeeded(disk: VmDisk, logicalCount: number): number {
  const overhead = ALIGN_MIB + (disk.table === 'gpt' ? ALIGN_MIB : 0) + logicalCount * ALIGN_MIB;
  return overhead + disk.partitions.reduce((sum, p) => sum + (p.sizeMiB ?? 1), 0);
}

function invalid(disk: VmDisk, problem: PartitionProblem): VmgenError {
  return new VmgenError('VMG_CONFIG_INVALID', `disk ${disk.name}: ${problem.message}`, problem.hint === undefined ? undefined : { hint: problem.hint });
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
  // GPT keeps its backup table in the last sectors; the whole last MiB keeps the end aligned.
  const usable = disk.sizeMiB - ALIGN_MIB - (disk.table === 'gpt' ? ALIGN_MIB : 0) - logicalCount * ALIGN_MIB;
  const rest = usable - disk.partitions.reduce((sum, p) => sum + (p.sizeMiB ?? 0), 0);
  return new Map(disk.partitions.map((p) => [p, p.sizeMiB ?? rest]));
}

/**
 * The partitions in disk order with their numbers and places. `firmware` decides the boot mark:
 * BIOS needs the partition holding /boot marked for the MBR boot code; UEFI finds the ESP by type.
 */
export function planPartitions(disk: VmDisk, firmware: VmLayout['firmware'] = 'bios'): PlannedPartition[] {
  const problem = partitionProblems(disk)[0];
  if (problem !== undefined) throw invalid(disk, problem);
  const { primaries, logicals } = diskOrder(disk);
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
