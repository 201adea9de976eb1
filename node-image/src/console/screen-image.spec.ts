import { inflateSync } from 'node:zlib';
import { decodePpm, encodePng, ScreenImageError, shrinkToWidth } from './screen-image';

const ppm = (w: number, h: number, pixels: number[], header = `P6\n${w} ${h}\n255\n`): Buffer => Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from(pixels)]);

describe('decodePpm', () => {
  it('reads a P6 image, comments included', () => {
    const image = decodePpm(ppm(2, 1, [1, 2, 3, 4, 5, 6], 'P6\n# QEMU\n2 1\n255\n'));
    expect(image).toEqual({ width: 2, height: 1, pixels: Buffer.from([1, 2, 3, 4, 5, 6]) });
  });

  it.each([
    [ppm(1, 1, [0, 0, 0], 'P3\n1 1\n255\n'), /not a binary PPM/],
    [ppm(1, 1, [0, 0, 0], 'P6\n0 1\n255\n'), /unusable size 0x1/],
    [ppm(1, 1, [0, 0, 0], 'P6\n1 1\n65535\n'), /maxval 65535/],
    [ppm(2, 2, [0, 0, 0]), /truncated: 3 of 12/],
  ])('refuses a broken dump with a reason (%#)', (data, message) => {
    expect(() => decodePpm(data)).toThrow(ScreenImageError);
    expect(() => decodePpm(data)).toThrow(message);
  });
});

describe('shrinkToWidth', () => {
  it('averages the pixels each target pixel covers and keeps the aspect', () => {
    const image = { width: 4, height: 2, pixels: Buffer.from([0, 0, 0, 255, 255, 255, 10, 20, 30, 30, 40, 50, 0, 0, 0, 255, 255, 255, 10, 20, 30, 30, 40, 50]) };
    expect(shrinkToWidth(image, 2)).toEqual({ width: 2, height: 1, pixels: Buffer.from([128, 128, 128, 20, 30, 40]) });
  });

  it('leaves a narrow image alone and refuses a bad width', () => {
    const image = { width: 2, height: 2, pixels: Buffer.alloc(12) };
    expect(shrinkToWidth(image, 5)).toBe(image);
    expect(() => shrinkToWidth(image, 0)).toThrow(/positive integer/);
  });
});

describe('encodePng', () => {
  it('writes signature, IHDR (8-bit RGB), IDAT with filter-0 rows and IEND, each with its CRC', () => {
    const png = encodePng({ width: 2, height: 1, pixels: Buffer.from([1, 2, 3, 4, 5, 6]) });
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    // IHDR CRC computed independently: Python's zlib.crc32(b'IHDR' + data).
    expect(png.subarray(8, 33).toString('hex')).toBe('0000000d494844520000000200000001080200000' + '07b40e8dd');
    const idatLength = png.readUInt32BE(33);
    expect(png.subarray(37, 41).toString('latin1')).toBe('IDAT');
    expect(inflateSync(png.subarray(41, 41 + idatLength))).toEqual(Buffer.from([0, 1, 2, 3, 4, 5, 6]));
    // IEND with its fixed CRC (ae426082).
    expect(png.subarray(png.length - 12).toString('hex')).toBe('0000000049454e44ae426082');
  });
});
