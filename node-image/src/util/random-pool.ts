/**
 * Cryptographically strong random bytes, drawn from a pool refilled in 4 KiB blocks: one
 * getrandom call per ~250 packets instead of one per packet (IVs, Rc, session ids).
 */
import { randomFillSync } from 'node:crypto';

export function pooledRandom(poolSize = 4096): (n: number) => Buffer {
  const pool = Buffer.allocUnsafe(poolSize);
  let offset = poolSize;
  return (n: number): Buffer => {
    if (n > poolSize) return randomFillSync(Buffer.allocUnsafe(n));
    if (offset + n > poolSize) { randomFillSync(pool); offset = 0; }
    const out = Buffer.from(pool.subarray(offset, offset + n));
    // Used bytes are overwritten so no copy of a key-relevant value lingers in the pool.
    pool.fill(0, offset, offset + n);
    offset += n;
    return out;
  };
}
