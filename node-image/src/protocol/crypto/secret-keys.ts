/**
 * Secret keys as Node KeyObjects, made once per key. `createHmac`/`createCipheriv` given a Buffer
 * check and wrap it on every call, which costs several times the MAC or cipher of a small IPMI
 * packet itself; given a KeyObject they skip that. Keys (Kuid, Kg, SIK, K1, K2) live as long as a
 * user or a session and are used for every packet, so each gets its KeyObject the first time.
 *
 * Pure: a cache from a key's bytes to its KeyObject. A Buffer changed in place after its first use
 * gets a fresh KeyObject (the cache compares the bytes it was made from).
 *
 * Passwords (Kuid, Kg) are also shared by value (sharedSecretKey): the BMCs of a farm each hold their
 * own copy of the same administrator password, and a BMC woken for one session would otherwise make
 * a KeyObject for it every time.
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

/** Distinct passwords whose KeyObjects are kept by value; the oldest is let go past this. */
export const SHARED_KEYS_MAX = 1024;
const shared = new Map<string, KeyObject>();

/** The KeyObject of a long-lived key (a password), shared by every Buffer holding the same bytes. */
export function sharedSecretKey(key: Buffer): KeyObject {
  const id = key.toString('latin1');
  let made = shared.get(id);
  if (made === undefined) {
    made = createSecretKey(Buffer.from(key));
    if (shared.size >= SHARED_KEYS_MAX) shared.delete(shared.keys().next().value!);
    shared.set(id, made);
  }
  return made;
}
