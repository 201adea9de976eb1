/**
 * FRU device 0 of the BMC (IPMI v2.0 section 34): a read-only image built from the machine's
 * identity, read by bytes (not words).
 *
 * Read FRU Data returns at most what is left of the image from the offset ("count returned" may be
 * smaller than asked, section 34.2; ipmitool and FreeIPMI advance by the count returned). An offset
 * at or past the end is out of range. Writes are refused: the inventory describes a simulated
 * machine and is rebuilt from its identity at every start, the first time it is read (a farm starts
 * BMCs far more often than anyone reads their FRU).
 */
import { buildFruImage, type FruIdentity } from './fru-image.codec';

export const BUILTIN_FRU_DEVICE_ID = 0;

export type FruReadResult =
  | { readonly ok: true; readonly data: Buffer }
  | { readonly ok: false; readonly error: 'not-present' | 'offset' | 'count' };

export class FruInventory {
  private built: Buffer | undefined;

  constructor(private readonly identity: FruIdentity) {}

  private get image(): Buffer {
    return (this.built ??= buildFruImage(this.identity));
  }

  /** Size in bytes of FRU device `id`, or undefined when there is no such device. */
  areaSize(id: number): number | undefined {
    return id === BUILTIN_FRU_DEVICE_ID ? this.image.length : undefined;
  }

  read(id: number, offset: number, count: number): FruReadResult {
    if (id !== BUILTIN_FRU_DEVICE_ID) return { ok: false, error: 'not-present' };
    if (count === 0) return { ok: false, error: 'count' };
    if (offset >= this.image.length) return { ok: false, error: 'offset' };
    const end = Math.min(this.image.length, offset + count);
    return { ok: true, data: Buffer.from(this.image.subarray(offset, end)) };
  }

  /** A copy of the whole image. */
  bytes(): Buffer {
    return Buffer.from(this.image);
  }
}
