/** Loads the captured exchanges of node-image/test/vectors (extracted from the shared ipmi-captures.md). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface VectorPacket { readonly index: number; readonly direction: 'request' | 'response'; readonly hex: string }

export function loadVector(n: number): Map<number, Buffer> {
  const doc = JSON.parse(readFileSync(join(__dirname, '..', '..', 'test', 'vectors', `vector${n}.json`), 'utf8')) as { packets: VectorPacket[] };
  return new Map(doc.packets.map((p) => [p.index, Buffer.from(p.hex, 'hex')]));
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A random source that hands out scripted values in order, then fails loudly. */
export function scriptedRandom(values: Buffer[]): (n: number) => Buffer {
  const queue = [...values];
  return (n: number) => {
    const next = queue.shift();
    if (!next) throw new Error(`scripted random exhausted (asked for ${n} bytes)`);
    if (next.length !== n) throw new Error(`scripted random: asked for ${n} bytes, next value has ${next.length}`);
    return next;
  };
}
