/**
 * The one regular file of a tar archive (pure), as the Engine API's GET /containers/{id}/archive
 * answers for a file path: a ustar header of 512 bytes, the content padded to 512 bytes, then two
 * zero blocks (POSIX.1-2017 "pax", ustar Interchange Format). Extended headers (pax `x`, GNU `L`)
 * before the file are skipped.
 */
const BLOCK = 512;
const SIZE_OFFSET = 124;
const SIZE_LENGTH = 12;
const TYPE_OFFSET = 156;
/** Regular file: '0', or NUL in old archives. */
const REGULAR_TYPES = new Set(['0', '\0']);
/** Headers that describe the next entry (pax extended, pax global, GNU long name/link). */
const META_TYPES = new Set(['x', 'g', 'L', 'K']);

export class TarFormatError extends Error {}

function entrySize(header: Buffer): number {
  const field = header.subarray(SIZE_OFFSET, SIZE_OFFSET + SIZE_LENGTH).toString('latin1').replace(/[\0 ]+$/g, '').trim();
  if (!/^[0-7]+$/.test(field)) throw new TarFormatError(`tar header size field ${JSON.stringify(field)} is not octal`);
  return parseInt(field, 8);
}

/** The content of the first regular file; null when the archive holds none. */
export function firstRegularFile(archive: Buffer): Buffer | null {
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return null;
    const size = entrySize(header);
    const type = String.fromCharCode(header[TYPE_OFFSET] ?? 0);
    const start = offset + BLOCK;
    if (start + size > archive.length) throw new TarFormatError(`tar entry of ${size} bytes runs past the end of the archive`);
    if (REGULAR_TYPES.has(type)) return Buffer.from(archive.subarray(start, start + size));
    if (!META_TYPES.has(type)) return null;
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return null;
}
