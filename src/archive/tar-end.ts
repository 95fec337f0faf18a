import { Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;

/**
 * A tar member's data size from its header: octal digits, or GNU's base-256 form (high bit set)
 * that tar uses for sizes past 8 GiB.
 */
export function headerSize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if ((field[0]! & 0x80) !== 0) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** A pax extended header's `size` record, which overrides the next member's header field. */
export function paxSize(records: Buffer): number | undefined {
  let at = 0;
  let size: number | undefined;
  while (at < records.length) {
    const space = records.indexOf(0x20, at);
    if (space < 0) break;
    const length = parseInt(records.toString('latin1', at, space), 10);
    if (!(length > 0)) break;
    const record = records.toString('utf8', space + 1, at + length - 1);
    if (record.startsWith('size=')) size = Number(record.slice(5));
    at += length;
  }
  return size;
}

const isZero = (b: Buffer): boolean => b.every((byte) => byte === 0);

/**
 * Passes a tar stream through without its end: the two zero blocks and the record's padding
 * after the last member. Tar readers stop at that end, so only a stream without it can be
 * followed by more members in one archive (a cached layer's members, then one build's own).
 * It walks the headers to find the end: a member's last data block may be zeros too.
 */
export class TarEndStrip extends Transform {
  /** Bytes until the next header starts (data and padding of the current member). */
  private skip = 0;
  /** A header or pax payload split across chunks. */
  private pending: Buffer = Buffer.alloc(0);
  /** Collecting a pax extended header's records: how many bytes of them are still to come. */
  private paxLeft = 0;
  private paxPadding = 0;
  private paxParts: Buffer[] = [];
  private nextSize: number | undefined;
  private ended = false;
  private members = 0;

  /** Members passed through, for the tests. */
  get count(): number {
    return this.members;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.walk(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (!this.ended) done(new Error('the tar stream ended without its end-of-archive blocks'));
    else done();
  }

  private walk(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.ended) {
        if (!isZero(chunk.subarray(at))) throw new Error('data after the tar stream\'s end-of-archive blocks');
        return;
      }
      if (this.paxLeft > 0 || this.paxPadding > 0) {
        at = this.takePax(chunk, at);
        continue;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.push(chunk.subarray(at, at + n));
        this.skip -= n;
        at += n;
        continue;
      }
      const need = BLOCK - this.pending.length;
      const piece = chunk.subarray(at, at + need);
      at += piece.length;
      if (piece.length < need) {
        this.pending = Buffer.concat([this.pending, piece]);
        continue;
      }
      const header = this.pending.length === 0 ? piece : Buffer.concat([this.pending, piece]);
      this.pending = Buffer.alloc(0);
      this.header(header);
    }
  }

  private header(header: Buffer): void {
    if (isZero(header)) {
      this.ended = true;
      return;
    }
    this.push(header);
    const type = String.fromCharCode(header[156]!);
    const size = headerSize(header);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      this.paxLeft = size;
      this.paxPadding = padded - size;
      this.paxParts = [];
      return;
    }
    // pax, GNU long names and global headers describe the member after them.
    if (type !== 'g' && type !== 'L' && type !== 'K') this.members++;
    const own = type === 'g' || type === 'L' || type === 'K' ? undefined : this.nextSize;
    if (type !== 'g' && type !== 'L' && type !== 'K') this.nextSize = undefined;
    this.skip = own === undefined ? padded : Math.ceil(own / BLOCK) * BLOCK;
  }

  private takePax(chunk: Buffer, at: number): number {
    if (this.paxLeft > 0) {
      const n = Math.min(this.paxLeft, chunk.length - at);
      const part = chunk.subarray(at, at + n);
      this.push(part);
      this.paxParts.push(Buffer.from(part));
      this.paxLeft -= n;
      if (this.paxLeft === 0) this.nextSize = paxSize(Buffer.concat(this.paxParts)) ?? this.nextSize;
      return at + n;
    }
    const n = Math.min(this.paxPadding, chunk.length - at);
    this.push(chunk.subarray(at, at + n));
    this.paxPadding -= n;
    return at + n;
  }
}
