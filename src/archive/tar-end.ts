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

const ZERO_BLOCK = Buffer.alloc(BLOCK);
const allZero = (b: Buffer): boolean => b.length === 0 || (b.length <= BLOCK ? b.equals(ZERO_BLOCK.subarray(0, b.length)) : b.equals(Buffer.alloc(b.length)));

/**
 * Passes a tar stream through without its end: the two zero blocks and the record's padding
 * after the last member. Tar readers stop at that end, so only a stream without it can be
 * followed by more members in one archive (a cached layer's members, then one build's own).
 * It walks the headers to find the end (a member's last data block may be zeros too), and passes
 * the chunks on whole until then: the layer's hundreds of megabytes cost a copy, not a push per member.
 */
export class TarEndStrip extends Transform {
  /** Offset of the next header, counted from the start of the stream. */
  private next = 0;
  /** Offset of the first byte of the next chunk. */
  private seen = 0;
  /** The first bytes of a header split across chunks, held back until it is known not to be the end. */
  private held: Buffer | undefined;
  /** A pax extended header's records being gathered: [start, end) in the stream. */
  private pax: { start: number; end: number; parts: Buffer[] } | undefined;
  private nextSize: number | undefined;
  private ended = false;
  private members = 0;

  constructor() {
    super({ highWaterMark: 1 << 20 });
  }

  /** Members passed through, for the tests. */
  get count(): number {
    return this.members;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      for (const out of this.scan(chunk)) if (out.length > 0) this.push(out);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (!this.ended) done(new Error('the tar stream ended without its end-of-archive blocks'));
    else done();
  }

  /** What of `chunk` (and of a header held back from the chunk before) goes before the end. */
  private scan(chunk: Buffer): Buffer[] {
    const start = this.seen;
    this.seen += chunk.length;
    if (this.ended) {
      if (!allZero(chunk)) throw new Error('data after the tar stream\'s end-of-archive blocks');
      return [];
    }
    const out: Buffer[] = [];
    this.gather(chunk, start);
    const from = 0;
    while (this.next < this.seen) {
      const at = this.next - start;
      let header: Buffer;
      if (this.held !== undefined) {
        header = Buffer.concat([this.held, chunk.subarray(0, BLOCK - this.held.length)]);
        if (header.length < BLOCK) {
          this.held = header;
          return out;
        }
      } else if (at + BLOCK > chunk.length) {
        out.push(chunk.subarray(from, at));
        this.held = Buffer.from(chunk.subarray(at));
        return out;
      } else {
        header = chunk.subarray(at, at + BLOCK);
      }
      if (header.equals(ZERO_BLOCK)) {
        this.ended = true;
        if (!allZero(chunk.subarray(Math.max(0, at)))) throw new Error('data after the tar stream\'s end-of-archive blocks');
        this.held = undefined;
        out.push(chunk.subarray(from, Math.max(0, at)));
        return out;
      }
      if (this.held !== undefined) {
        out.push(this.held);
        this.held = undefined;
      }
      this.header(header, this.next);
      this.gather(chunk, start);
    }
    out.push(chunk.subarray(from));
    return out;
  }

  private header(header: Buffer, offset: number): void {
    const type = String.fromCharCode(header[156]!);
    const size = headerSize(header);
    const dataAt = offset + BLOCK;
    // pax, GNU long names and global headers describe the member after them.
    const meta = type === 'x' || type === 'g' || type === 'L' || type === 'K';
    const own = meta ? size : (this.nextSize ?? size);
    if (!meta) {
      this.members++;
      this.nextSize = undefined;
    }
    if (type === 'x') this.pax = { start: dataAt, end: dataAt + size, parts: [] };
    this.next = dataAt + Math.ceil(own / BLOCK) * BLOCK;
  }

  /** Copies the pending pax records that lie in `chunk` (which starts at `start`); reads their size once all are in. */
  private gather(chunk: Buffer, start: number): void {
    const pax = this.pax;
    if (pax === undefined) return;
    const from = Math.max(pax.start, start);
    const to = Math.min(pax.end, start + chunk.length);
    if (to > from) {
      pax.parts.push(Buffer.from(chunk.subarray(from - start, to - start)));
      pax.start = to;
    }
    if (pax.start >= pax.end) {
      this.nextSize = paxSize(Buffer.concat(pax.parts)) ?? this.nextSize;
      this.pax = undefined;
    }
  }
}
