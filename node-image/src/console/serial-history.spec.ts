import { SERIAL_HISTORY_BYTES, SerialHistory } from './serial-history';

describe('SerialHistory', () => {
  it('keeps everything below its capacity, oldest first', () => {
    const sut = new SerialHistory(8);
    sut.append(Buffer.from('abc'));
    sut.append(Buffer.from('de'));
    expect(sut.snapshot().toString()).toBe('abcde');
    expect(sut.length).toBe(5);
    expect(sut.totalBytes).toBe(5);
  });

  it('drops the oldest bytes once full, across the wrap point', () => {
    const sut = new SerialHistory(8);
    sut.append(Buffer.from('abcdef'));
    sut.append(Buffer.from('ghij'));
    expect(sut.snapshot().toString()).toBe('cdefghij');
    sut.append(Buffer.from('k'));
    expect(sut.snapshot().toString()).toBe('defghijk');
    expect(sut.length).toBe(8);
    expect(sut.totalBytes).toBe(11);
  });

  it('keeps only the tail of a chunk larger than the capacity', () => {
    const sut = new SerialHistory(4);
    sut.append(Buffer.from('x'));
    sut.append(Buffer.from('0123456789'));
    expect(sut.snapshot().toString()).toBe('6789');
    sut.append(Buffer.from('ab'));
    expect(sut.snapshot().toString()).toBe('89ab');
  });

  it('equals the last N bytes of the whole stream for any chunking', () => {
    let seed = 7;
    const next = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    for (let round = 0; round < 200; round++) {
      const capacity = 1 + next(64);
      const sut = new SerialHistory(capacity);
      const all: number[] = [];
      for (let i = 0; i < 20; i++) {
        const chunk = Buffer.from(Array.from({ length: next(100) }, () => next(256)));
        all.push(...chunk);
        sut.append(chunk);
      }
      expect(sut.snapshot()).toEqual(Buffer.from(all.slice(Math.max(0, all.length - capacity))));
    }
  });

  it('is 256 KiB by default, and the snapshot is a copy', () => {
    const sut = new SerialHistory();
    expect(sut.capacity).toBe(SERIAL_HISTORY_BYTES);
    expect(SERIAL_HISTORY_BYTES).toBeGreaterThanOrEqual(256 * 1024);
    sut.append(Buffer.from('ab'));
    const copy = sut.snapshot();
    copy[0] = 0x7a;
    expect(sut.snapshot().toString()).toBe('ab');
  });

  it('splits into lines without CR and without an empty last line', () => {
    const sut = new SerialHistory(64);
    sut.append(Buffer.from('SeaBIOS\r\nLinux version 6.1\r\n# '));
    expect(sut.lines()).toEqual(['SeaBIOS', 'Linux version 6.1', '# ']);
    expect(new SerialHistory(4).lines()).toEqual([]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new SerialHistory(0)).toThrow(/positive integer/);
    expect(() => new SerialHistory(1.5)).toThrow(/positive integer/);
  });
});
