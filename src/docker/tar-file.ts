/**
 * The one regular file of a tar stream, as the Engine API's GET /containers/{id}/archive answers
 * for a file path (POSIX ustar, IEEE Std 1003.1 "pax" format: 512-byte header blocks; size is
 * 12 octal digits at offset 124; type flag at offset 156, '0' or NUL for a regular file; data
 * padded to 512 bytes; pax extended headers, type 'x' or 'g', are skipped). Pure.
 */
const BLOCK = 512;
const SIZE_OFFSET = 124;
const SIZE_LENGTH = 12;
const TYPE_OFFSET = 156;

export function firstFileInTar(tar: Buffer): Buffer | null {
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return null;
    const sizeText = header.subarray(SIZE_OFFSET, SIZE_OFFSET + SIZE_LENGTH).toString('latin1').replace(/\0.*$/, '').trim();
    const size = parseInt(sizeText || '0', 8);
    if (!Number.isFinite(size) || size < 0) return null;
    const type = String.fromCharCode(header[TYPE_OFFSET]!);
    const dataStart = offset + BLOCK;
    if (type === '0' || type === '\0') {
      return dataStart + size <= tar.length ? Buffer.from(tar.subarray(dataStart, dataStart + size)) : null;
    }
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return null;
}
