/**
 * The VM's screen as a PNG, from QEMU's screendump (QMP `screendump`, which writes a binary PPM):
 * decode the PPM, shrink it for thumbnails, encode PNG. Pure: buffers in, buffers out.
 *
 * PPM (netpbm "P6"): "P6", whitespace, width, whitespace, height, whitespace, maxval (255), one
 * whitespace byte, then width*height RGB triples, row by row. Comments (#…) may stand between fields.
 * PNG (ISO/IEC 15948): signature, IHDR (width, height, bit depth 8, colour type 2 = RGB), IDAT
 * (zlib of each row prefixed with filter type 0), IEND; each chunk u32be length, type, data, CRC-32.
 */
import { crc32, deflateSync } from 'node:zlib';

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes, row by row. */
  readonly pixels: Buffer;
}

/** Largest screen accepted from a PPM (QEMU's VGA goes up to 2560x1600). */
export const MAX_SCREEN_PIXELS = 8192 * 8192;

export class ScreenImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScreenImageError';
  }
}

export function decodePpm(data: Buffer): RgbImage {
  let offset = 0;
  const field = (): string => {
    for (;;) {
      while (offset < data.length && /\s/.test(String.fromCharCode(data[offset]!))) offset++;
      if (data[offset] === 0x23) { while (offset < data.length && data[offset] !== 0x0a) offset++; continue; }
      break;
    }
    const start = offset;
    while (offset < data.length && !/\s/.test(String.fromCharCode(data[offset]!))) offset++;
    return data.subarray(start, offset).toString('latin1');
  };
  if (field() !== 'P6') throw new ScreenImageError('the screen dump is not a binary PPM (P6)');
  const width = Number(field());
  const height = Number(field());
  const maxval = Number(field());
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || width * height > MAX_SCREEN_PIXELS) {
    throw new ScreenImageError(`the screen dump has an unusable size ${width}x${height}`);
  }
  if (maxval !== 255) throw new ScreenImageError(`the screen dump has maxval ${maxval}; 255 is supported`);
  offset++; // the single whitespace byte before the pixels
  const size = width * height * 3;
  if (data.length - offset < size) throw new ScreenImageError(`the screen dump is truncated: ${data.length - offset} of ${size} pixel bytes`);
  return { width, height, pixels: Buffer.from(data.subarray(offset, offset + size)) };
}

/**
 * The image shrunk to `width` (height in proportion, at least 1) by averaging the source pixels
 * each target pixel covers; an image already that narrow or narrower is returned as it is.
 */
export function shrinkToWidth(image: RgbImage, width: number): RgbImage {
  if (!Number.isInteger(width) || width <= 0) throw new ScreenImageError(`width must be a positive integer (got ${width})`);
  if (width >= image.width) return image;
  const height = Math.max(1, Math.round((image.height * width) / image.width));
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor((y * image.height) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * image.height) / height));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor((x * image.width) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * image.width) / width));
      let r = 0, g = 0, b = 0;
      for (let sy = y0; sy < y1; sy++) {
        for (let sx = x0; sx < x1; sx++) {
          const i = (sy * image.width + sx) * 3;
          r += image.pixels[i]!; g += image.pixels[i + 1]!; b += image.pixels[i + 2]!;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (y * width + x) * 3;
      out[o] = Math.round(r / n); out[o + 1] = Math.round(g / n); out[o + 2] = Math.round(b / n);
    }
  }
  return { width, height, pixels: out };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const BIT_DEPTH_8 = 8;
const COLOUR_TYPE_RGB = 2;
const FILTER_NONE = 0;

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export function encodePng(image: RgbImage): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(image.width, 0);
  ihdr.writeUInt32BE(image.height, 4);
  ihdr[8] = BIT_DEPTH_8;
  ihdr[9] = COLOUR_TYPE_RGB;
  // bytes 10-12: compression 0 (deflate), filter method 0, no interlace
  const stride = image.width * 3;
  const raw = Buffer.alloc((stride + 1) * image.height);
  for (let y = 0; y < image.height; y++) {
    raw[y * (stride + 1)] = FILTER_NONE;
    image.pixels.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  }
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
