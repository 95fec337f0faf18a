import { Transform, type TransformCallback } from 'node:stream';

/*
 * An overlayfs upper directory, as GNU tar writes it in the pax format (--format=posix with
 * --xattrs-include=trusted.overlay.*), rewritten into an OCI layer (image-spec layer.md):
 *   - a whiteout, a character device 0/0 named NAME, becomes an empty regular file .wh.NAME;
 *   - an opaque directory (trusted.overlay.opaque=y, or user.overlay.opaque when the overlay was
 *     mounted with userxattr) keeps its entry and gains an empty file DIR/.wh..wh..opq;
 *   - overlayfs' own attributes (trusted.overlay.*, user.overlay.*) are dropped: they describe
 *     this host's overlay, and a runtime unpacking the layer would otherwise recreate them.
 * Everything else, file data included, passes through byte for byte, so the same upper directory
 * always gives the same layer. The rewriter is pure: blocks in, blocks out.
 */

const BLOCK = 512;
const OPAQUE_MARKER = '.wh..wh..opq';
const WHITEOUT_PREFIX = '.wh.';
const OVERLAY_XATTR = /^SCHILY\.xattr\.(trusted|user)\.overlay\./;
const OPAQUE_XATTRS = ['SCHILY.xattr.trusted.overlay.opaque', 'SCHILY.xattr.user.overlay.opaque'];

type PaxRecord = readonly [string, string];

interface Header {
  block: Buffer;
  path: string;
  type: string;
  size: number;
  devmajor: number;
  devminor: number;
}

function field(block: Buffer, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** A numeric field: octal text, or GNU's base-256 when the high bit of its first byte is set. */
function numeric(block: Buffer, offset: number, length: number): number {
  const raw = block.subarray(offset, offset + length);
  if ((raw[0]! & 0x80) !== 0) {
    let n = raw[0]! & 0x7f;
    for (let i = 1; i < length; i++) n = n * 256 + raw[i]!;
    return n;
  }
  const text = field(block, offset, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function isZeroBlock(block: Buffer): boolean {
  for (const b of block) if (b !== 0) return false;
  return true;
}

function parseHeader(block: Buffer): Header {
  const name = field(block, 0, 100);
  const prefix = field(block, 345, 155);
  return {
    block,
    path: prefix === '' ? name : `${prefix}/${name}`,
    type: String.fromCharCode(block[156] || 0x30),
    size: numeric(block, 124, 12),
    devmajor: numeric(block, 329, 8),
    devminor: numeric(block, 337, 8),
  };
}

export function parsePax(data: Buffer): PaxRecord[] {
  const records: PaxRecord[] = [];
  let at = 0;
  while (at < data.length && data[at] !== 0) {
    const space = data.indexOf(0x20, at);
    const length = parseInt(data.subarray(at, space).toString('ascii'), 10);
    if (space === -1 || !Number.isSafeInteger(length) || length <= 0) throw new Error(`malformed pax record at byte ${at}`);
    const text = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = text.indexOf('=');
    records.push([text.slice(0, eq), text.slice(eq + 1)]);
    at += length;
  }
  return records;
}

/** "LEN KEY=VALUE\n", where LEN counts its own digits too. */
export function encodePax(records: readonly PaxRecord[]): Buffer {
  return Buffer.concat(records.map(([key, value]) => {
    const body = Buffer.byteLength(` ${key}=${value}\n`);
    let length = body;
    while (body + String(length).length !== length) length = body + String(length).length;
    return Buffer.from(`${length} ${key}=${value}\n`, 'utf8');
  }));
}

function setChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}

function padded(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}

/** Puts `path` into the ustar name and prefix fields when it fits; returns false when only a pax record can hold it. */
function setUstarPath(block: Buffer, path: string): boolean {
  block.fill(0, 0, 100);
  block.fill(0, 345, 500);
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length <= 100) {
    bytes.copy(block, 0);
    return true;
  }
  for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
    const prefix = Buffer.from(path.slice(0, cut), 'utf8');
    const name = Buffer.from(path.slice(cut + 1), 'utf8');
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) {
      name.copy(block, 0);
      prefix.copy(block, 345);
      return true;
    }
  }
  Buffer.from(path.slice(-100), 'utf8').subarray(0, 100).copy(block, 0);
  return false;
}

/** The pax header entry (type x) carrying `records` for the entry at `path`; none when there are none. */
function paxEntry(template: Buffer, path: string, records: readonly PaxRecord[]): Buffer[] {
  if (records.length === 0) return [];
  const data = encodePax(records);
  const header = Buffer.from(template);
  const slash = path.replace(/\/$/, '').lastIndexOf('/');
  // GNU tar's own name for these headers with exthdr.name=%d/PaxHeaders/%f: no pid, so no difference between runs.
  setUstarPath(header, `${slash === -1 ? '.' : path.slice(0, slash)}/PaxHeaders/${path.replace(/\/$/, '').slice(slash + 1)}`.slice(-100));
  header[156] = 0x78; // 'x'
  writeOctal(header, 124, 12, data.length);
  header.fill(0, 157, 257); // no link name
  header.fill(0, 329, 345); // no device numbers
  setChecksum(header);
  return [header, padded(data)];
}

/** An entry's header (with its pax header when needed) at another path, as an empty regular file. */
function emptyFile(template: Buffer, path: string, records: readonly PaxRecord[]): Buffer[] {
  const header = Buffer.from(template);
  const fits = setUstarPath(header, path);
  header[156] = 0x30; // '0': a regular file
  writeOctal(header, 124, 12, 0);
  // A whiteout's own mode is a device's; the layer's marker is an empty file anyone may read.
  writeOctal(header, 100, 8, 0o644);
  header.fill(0, 157, 257);
  header.fill(0, 329, 345);
  setChecksum(header);
  const kept = records.filter(([k]) => k !== 'path' && k !== 'size' && k !== 'linkpath');
  return [...paxEntry(template, path, fits ? kept : [...kept, ['path', path]]), header];
}

function whiteoutPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}${WHITEOUT_PREFIX}${path.slice(slash + 1)}`;
}

function opaqueMarkerPath(dir: string): string {
  return `${dir.replace(/\/+$/, '')}/${OPAQUE_MARKER}`;
}

/** Rewrites one tar stream's blocks as they come; `push` and `end` return what to write out. */
export class WhiteoutRewriter {
  private pending = Buffer.alloc(0);
  /** Bytes of the current entry's data (with padding) still to pass through unchanged. */
  private passing = 0;
  /** A pax header's data still to collect (with padding), and what it will be once complete. */
  private paxWanted = 0;
  private paxHeader: Buffer | undefined;
  private paxData: Buffer[] = [];
  private records: PaxRecord[] | undefined;
  private ended = false;
  /** Paths of the whiteouts seen: overlayfs (Linux ≥ 5.8) may make whiteouts hard links of one another. */
  private readonly whiteouts = new Set<string>();
  /** Counts for the caller's log: whiteouts and opaque directories converted. */
  readonly converted = { whiteouts: 0, opaque: 0 };

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.passing > 0) {
        const n = Math.min(this.passing, data.length);
        out.push(data.subarray(0, n));
        this.passing -= n;
        data = data.subarray(n);
        continue;
      }
      if (this.paxWanted > 0) {
        const n = Math.min(this.paxWanted, data.length);
        this.paxData.push(data.subarray(0, n));
        this.paxWanted -= n;
        data = data.subarray(n);
        if (this.paxWanted === 0) this.records = parsePax(Buffer.concat(this.paxData));
        continue;
      }
      if (data.length < BLOCK) {
        this.pending = Buffer.from(data);
        break;
      }
      const block = data.subarray(0, BLOCK);
      data = data.subarray(BLOCK);
      out.push(...this.header(Buffer.from(block)));
    }
    return out;
  }

  end(): Buffer[] {
    if (this.pending.length > 0 || this.passing > 0 || this.paxWanted > 0 || this.paxHeader !== undefined) {
      throw new Error('the tar stream ended inside an entry');
    }
    return [];
  }

  private header(block: Buffer): Buffer[] {
    if (this.ended || isZeroBlock(block)) {
      this.ended = true;
      return [block];
    }
    const h = parseHeader(block);
    if (h.type === 'x') {
      this.paxHeader = block;
      this.paxData = [];
      this.paxWanted = Math.ceil(h.size / BLOCK) * BLOCK;
      if (this.paxWanted === 0) this.records = [];
      return [];
    }
    if (h.type === 'L' || h.type === 'K') throw new Error('GNU long-name headers are not read here: write the layer with --format=posix');
    const records = this.records ?? [];
    const hadPax = this.paxHeader !== undefined;
    const paxHeader = this.paxHeader;
    this.paxHeader = undefined;
    this.records = undefined;
    const path = records.find(([k]) => k === 'path')?.[1] ?? h.path;
    const kept = records.filter(([k]) => !OVERLAY_XATTR.test(k));
    if (h.type === 'g') {
      // A global header's data is not an entry's: pass it through as it is.
      this.passing = Math.ceil(h.size / BLOCK) * BLOCK;
      return [block];
    }
    const linkTarget = records.find(([k]) => k === 'linkpath')?.[1] ?? field(block, 157, 100);
    if ((h.type === '3' && h.devmajor === 0 && h.devminor === 0) || (h.type === '1' && this.whiteouts.has(linkTarget))) {
      this.whiteouts.add(path);
      this.converted.whiteouts++;
      return emptyFile(block, whiteoutPath(path), kept);
    }
    const out: Buffer[] = [];
    if (hadPax) {
      out.push(...(kept.length === records.length ? [paxHeader!, padded(Buffer.concat(this.paxData))] : paxEntry(paxHeader!, path, kept)));
    }
    out.push(block);
    const size = Number(records.find(([k]) => k === 'size')?.[1] ?? h.size);
    this.passing = h.type === '0' || h.type === '7' ? Math.ceil(size / BLOCK) * BLOCK : 0;
    if (h.type === '5' && records.some(([k, v]) => OPAQUE_XATTRS.includes(k) && v === 'y')) {
      this.converted.opaque++;
      out.push(...emptyFile(block, opaqueMarkerPath(path), kept.filter(([k]) => !k.startsWith('SCHILY.xattr.'))));
    }
    return out;
  }
}

/** The rewriter as a stream stage: tar's stdout in, the OCI layer's tar out. */
export function whiteoutTransform(): Transform & { converted: WhiteoutRewriter['converted'] } {
  const rewriter = new WhiteoutRewriter();
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        for (const b of rewriter.push(chunk)) this.push(b);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        for (const b of rewriter.end()) this.push(b);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  }) as Transform & { converted: WhiteoutRewriter['converted'] };
  t.converted = rewriter.converted;
  return t;
}
