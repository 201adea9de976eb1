/**
 * Secret keys as Node KeyObjects, made once per key. `createHmac`/`createCipheriv` given a Buffer
 * check and wrap it on every call, which costs several times the MAC or cipher of a small IPMI
 * packet itself; given a KeyObject they skip that. Keys (Kuid, Kg, SIK, K1, K2) live as long as a
 * user or a session and are used for every packet, so each gets its KeyObject the first time.
 *
 * Pure: a cache from a key's bytes to its KeyObject. A Buffer changed in place after its first use
 * gets a fresh KeyObject (the cache compares the bytes it was made from).
 */
import { createSecretKey, type KeyObject } from 'node:crypto';

interface Cached {
  readonly bytes: Buffer;
  readonly key: KeyObject;
}

const cache = new WeakMap<Buffer, Cached>();

/** The KeyObject of `key`'s bytes (all of them, or the first `length`). */
export function secretKey(key: Buffer, length = key.length): KeyObject {
  const cached = cache.get(key);
  if (cached !== undefined && cached.bytes.length === length && cached.bytes.equals(key.subarray(0, length))) return cached.key;
  const bytes = Buffer.from(key.subarray(0, length));
  const made: Cached = { bytes, key: createSecretKey(bytes) };
  cache.set(key, made);
  return made.key;
}
