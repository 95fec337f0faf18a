import { open } from 'node:fs/promises';
import { VmgenError } from '../errors.js';

/**
 * The text descriptor a sparse VMDK (monolithicSparse, streamOptimized) carries inside itself
 * (VMware Virtual Disk Format 1.1, "Hosted Sparse Extent Header" and "The Descriptor File").
 * qemu-img names the extent after the path it wrote, and the disk cache writes hdd0.vmdk that a
 * build then renames to NAME-hdd0.vmdk: the descriptor would name a file that is not there.
 */

const SECTOR = 512;
/** "KDMV" read as a little-endian uint32: the first four bytes of a sparse extent. */
const SPARSE_MAGIC = 0x564d444b;

/** Where SparseExtentHeader keeps the descriptor: descriptorOffset and descriptorSize, in sectors. */
export interface EmbeddedDescriptor {
  offset: number;
  size: number;
}

/**
 * Reads the header's descriptor location. Layout (packed, little-endian): magicNumber u32,
 * version u32, flags u32, capacity u64, grainSize u64, descriptorOffset u64, descriptorSize u64.
 */
export function embeddedDescriptor(header: Buffer): EmbeddedDescriptor | undefined {
  if (header.length < 44 || header.readUInt32LE(0) !== SPARSE_MAGIC) return undefined;
  const offset = Number(header.readBigUInt64LE(28));
  const size = Number(header.readBigUInt64LE(36));
  if (offset < 1 || size < 1 || !Number.isSafeInteger(offset * SECTOR) || size > 2048) return undefined;
  return { offset, size };
}

// An extent line: access, size in sectors, type, "file name", then an offset for some types.
const EXTENT = /^(RW|RDONLY|NOACCESS) (\d+) ([A-Z]+) "([^"]*)"(.*)$/;

/** The file names of a descriptor's extents, in order. */
export function extentFiles(descriptor: string): string[] {
  return descriptor.split('\n').flatMap((line) => {
    const m = EXTENT.exec(line.replace(/\r$/, ''));
    return m ? [m[4]!] : [];
  });
}

/** A descriptor quotes the extent name without escapes, and the name is relative to the descriptor's folder. */
export function isExtentName(file: string): boolean {
  return /^[^"/\\\u0000-\u001f\u007f]+$/.test(file);
}

/**
 * The descriptor with its one extent named `file` and, when it records one, the adapter type set.
 * A descriptor inside a sparse file has exactly one extent: the file itself. The text is the
 * descriptor's bytes read as latin1, so `file` is given the same way (its UTF-8 bytes).
 */
export function rewriteDescriptor(descriptor: string, file: string, adapter?: string): string {
  if (!isExtentName(file)) throw new Error(`${JSON.stringify(file)} cannot be a VMDK extent name`);
  const extents = extentFiles(descriptor);
  if (extents.length !== 1) throw new Error(`an embedded VMDK descriptor has one extent, this one ${extents.length}`);
  return descriptor.split('\n').map((line) => {
    const m = EXTENT.exec(line.replace(/\r$/, ''));
    if (m) return `${m[1]} ${m[2]} ${m[3]} "${file}"${m[5]}`;
    if (adapter !== undefined && /^ddb\.adapterType\s*=/.test(line)) return `ddb.adapterType = "${adapter}"`;
    return line;
  }).join('\n');
}

/**
 * Names the extent of the sparse VMDK at `path` after `file` (its name in the archive), in place.
 * The descriptor area has a fixed size and is padded with NULs, which the new text keeps.
 */
export async function nameSparseExtent(path: string, file: string, adapter?: string): Promise<void> {
  if (!isExtentName(file)) {
    throw new VmgenError('VMG_UNSUPPORTED', `${JSON.stringify(file)} cannot name a VMDK extent: a descriptor quotes it without escapes`, {
      hint: 'give the machine a vm_id without double quotes or backslashes',
    });
  }
  const handle = await open(path, 'r+');
  try {
    const header = Buffer.alloc(SECTOR);
    await handle.read(header, 0, SECTOR, 0);
    const where = embeddedDescriptor(header);
    if (!where) throw new VmgenError('VMG_BUILD', `${path} is no sparse VMDK with an embedded descriptor`);
    const area = Buffer.alloc(where.size * SECTOR);
    await handle.read(area, 0, area.length, where.offset * SECTOR);
    const end = area.indexOf(0);
    const text = area.subarray(0, end < 0 ? area.length : end).toString('latin1');
    const next = Buffer.from(rewriteDescriptor(text, Buffer.from(file, 'utf8').toString('latin1'), adapter), 'latin1');
    if (next.length >= area.length) throw new VmgenError('VMG_BUILD', `the descriptor of ${path} has no room for the extent name ${file}`);
    const out = Buffer.alloc(area.length);
    next.copy(out);
    await handle.write(out, 0, out.length, where.offset * SECTOR);
  } finally {
    await handle.close();
  }
}
