/**
 * The recent output of the host's serial console, kept for viewers that connect later (as
 * OpenBMC's obmc-console keeps its log): a ring of `capacity` bytes. Appending past the capacity
 * drops the oldest bytes. Pure: no sockets, no timers.
 */

/** Default capacity: 256 KiB of console output. */
export const SERIAL_HISTORY_BYTES = 256 * 1024;

export class SerialHistory {
  private readonly ring: Buffer;
  /** Where the next byte goes. */
  private head = 0;
  private filled = 0;
  /** Bytes ever appended (a viewer can tell how much it missed). */
  private total = 0;

  constructor(readonly capacity: number = SERIAL_HISTORY_BYTES) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`serial history capacity must be a positive integer (got ${capacity})`);
    this.ring = Buffer.alloc(capacity);
  }

  /** How many bytes the history holds now. */
  get length(): number {
    return this.filled;
  }

  /** How many bytes were ever appended. */
  get totalBytes(): number {
    return this.total;
  }

  append(data: Buffer): void {
    this.total += data.length;
    // Only the last `capacity` bytes of a large chunk can survive.
    const src = data.length > this.capacity ? data.subarray(data.length - this.capacity) : data;
    const first = Math.min(src.length, this.capacity - this.head);
    src.copy(this.ring, this.head, 0, first);
    if (first < src.length) src.copy(this.ring, 0, first);
    this.head = (this.head + src.length) % this.capacity;
    this.filled = Math.min(this.capacity, this.filled + src.length);
  }

  /** The history, oldest byte first (a copy). */
  snapshot(): Buffer {
    if (this.filled < this.capacity) return Buffer.from(this.ring.subarray(this.head - this.filled, this.head));
    return Buffer.concat([this.ring.subarray(this.head), this.ring.subarray(0, this.head)]);
  }

  /** The history as text lines (CR and a trailing partial line kept as they are; LF splits). */
  lines(): string[] {
    const text = this.snapshot().toString('utf8');
    if (text === '') return [];
    const lines = text.split('\n').map((l) => l.replace(/\r+$/, ''));
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  }
}
