import { createHash, randomBytes } from 'node:crypto';
import type { VmDisk, VmLayout, VmPartition } from './layout.js';
import { isEsp } from './partition-plan.js';

/**
 * A VM's /etc/fstab, and the file system ids it names. Mounting by UUID keeps the guest booting
 * whatever controller, disk order or device names the hypervisor gives it. A container's fstab is
 * not this one (systemd-remount-fs fails on it inside a container).
 */

/** `disk/partition`, e.g. `hdd0/root`: the key of a partition in every uuids map. */
export function partitionKey(disk: VmDisk, p: VmPartition): string {
  return `${disk.name}/${p.name}`;
}

/**
 * One id per partition in the form blkid prints and fstab uses: a UUID for ext*, xfs and swap,
 * XXXX-XXXX for vfat (its volume id), 16 hex digits for ntfs (its serial). The same seed gives the
 * same ids, so tests can fix them; builds pass a random seed so two machines never share one.
 */
export function chooseUuids(layout: VmLayout, seed: string = randomBytes(16).toString('hex')): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const disk of layout.disks) {
    for (const p of disk.partitions) {
      const key = partitionKey(disk, p);
      ids[key] = formatId(p, createHash('sha256').update(`${seed}\0${key}`).digest());
    }
  }
  return ids;
}

function formatId(p: VmPartition, bytes: Buffer): string {
  const hex = bytes.toString('hex');
  if (p.fs === 'vfat') return `${hex.slice(0, 4)}-${hex.slice(4, 8)}`.toUpperCase();
  if (p.fs === 'ntfs') return hex.slice(0, 16).toUpperCase();
  // RFC 9562 version 4: the version nibble and the variant bits mark it as a random UUID.
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

interface FstabEntry {
  spec: string;
  file: string;
  type: string;
  options: string;
  pass: number;
}

function entryFor(p: VmPartition, id: string): FstabEntry | undefined {
  const spec = `UUID=${id}`;
  if (p.fs === 'swap') return { spec, file: 'none', type: 'swap', options: 'sw', pass: 0 };
  if (p.mount === undefined) return undefined;
  const pass = p.mount === '/' ? 1 : 2;
  if (p.fs === 'vfat') return { spec, file: p.mount, type: 'vfat', options: isEsp(p) ? 'umask=0077' : 'defaults', pass };
  // Debian's kernel has no ntfs3 driver: ntfs-3g mounts it, and without it the guest still boots.
  if (p.fs === 'ntfs') return { spec, file: p.mount, type: 'ntfs-3g', options: 'defaults,nofail', pass: 0 };
  const options = p.mount === '/' && p.fs !== 'xfs' ? 'errors=remount-ro' : 'defaults';
  return { spec, file: p.mount, type: p.fs, options, pass };
}

/** Parents before children (/ before /boot before /boot/efi), swap last. */
function mountOrder(a: FstabEntry, b: FstabEntry): number {
  const depth = (e: FstabEntry): number => (e.type === 'swap' ? Number.POSITIVE_INFINITY : e.file === '/' ? 0 : e.file.split('/').length);
  return depth(a) - depth(b) || a.file.localeCompare(b.file);
}

export function renderVmFstab(layout: VmLayout, uuids: Readonly<Record<string, string>>): string {
  const entries: FstabEntry[] = [];
  for (const disk of layout.disks) {
    for (const p of disk.partitions) {
      const id = uuids[partitionKey(disk, p)];
      if (id === undefined) throw new Error(`no file system id for ${partitionKey(disk, p)}`);
      const entry = entryFor(p, id);
      if (entry) entries.push(entry);
    }
  }
  const lines = entries.sort(mountOrder).map((e) => `${e.spec} ${e.file} ${e.type} ${e.options} 0 ${e.pass}`);
  return ['# /etc/fstab written by vmgen: file systems by UUID, so disk order and controller do not matter.',
    '# <file system> <mount point> <type> <options> <dump> <pass>', ...lines, ''].join('\n');
}
