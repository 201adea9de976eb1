/** Growable writer; endianness in every method name. */
export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 64) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number { return this.pos; }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this { this.ensure(1); this.buf[this.pos++] = v & 0xff; return this; }
  u16le(v: number): this { this.ensure(2); this.buf.writeUInt16LE(v & 0xffff, this.pos); this.pos += 2; return this; }
  u16be(v: number): this { this.ensure(2); this.buf.writeUInt16BE(v & 0xffff, this.pos); this.pos += 2; return this; }
  u32le(v: number): this { this.ensure(4); this.buf.writeUInt32LE(v >>> 0, this.pos); this.pos += 4; return this; }
  u32be(v: number): this { this.ensure(4); this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; return this; }

  bytes(b: Uint8Array): this { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; return this; }

  /** n copies of one byte value. */
  fill(value: number, n: number): this { this.ensure(n); this.buf.fill(value & 0xff, this.pos, this.pos + n); this.pos += n; return this; }

  /** ASCII text NUL-padded (or cut) to exactly n bytes. */
  paddedAscii(text: string, n: number): this {
    const b = Buffer.alloc(n);
    b.write(text.slice(0, n), 'latin1');
    return this.bytes(b);
  }

  toBuffer(): Buffer { return Buffer.from(this.buf.subarray(0, this.pos)); }
}
