/** IPMI checksum (spec 13.8): two's complement of the 8-bit sum, so bytes + checksum sum to 0. */
export function ipmiChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]!) & 0xff;
  return (0x100 - sum) & 0xff;
}

/** True when bytes[start..end) including their trailing checksum byte sum to zero mod 256. */
export function checksumValid(bytes: Uint8Array, start: number, end: number): boolean {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]!) & 0xff;
  return sum === 0;
}
