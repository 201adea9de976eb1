/**
 * Bounds-checked reader over one datagram. Every read names its endianness; any read past the end
 * throws ProtocolError(TRUNCATED, { offset, needed }) instead of returning undefined.
 */
import { ProtocolError, ProtocolErrorCode } from '../errors';

export class ByteReader {
  private pos: number;

  constructor(private readonly buf: Buffer, start = 0, private readonly end = buf.length) {
    this.pos = start;
  }

  get offset(): number { return this.pos; }
  get remaining(): number { return this.end - this.pos; }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new ProtocolError(ProtocolErrorCode.Truncated, { offset: this.pos, needed: n });
    }
  }

  u8(): number { this.need(1); return this.buf[this.pos++]!; }
  u16le(): number { this.need(2); const v = this.buf.readUInt16LE(this.pos); this.pos += 2; return v; }
  u16be(): number { this.need(2); const v = this.buf.readUInt16BE(this.pos); this.pos += 2; return v; }
  u32le(): number { this.need(4); const v = this.buf.readUInt32LE(this.pos); this.pos += 4; return v; }
  u32be(): number { this.need(4); const v = this.buf.readUInt32BE(this.pos); this.pos += 4; return v; }

  /** A copy of the next n bytes (copies, so callers may keep it after the datagram is reused). */
  bytes(n: number): Buffer {
    this.need(n);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** Everything up to the end. */
  rest(): Buffer { return this.bytes(this.remaining); }

  skip(n: number): void { this.need(n); this.pos += n; }
}
