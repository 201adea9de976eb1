/**
 * PATCH merges (DSP0266 section 7.7 "Modification requests"): a client may send back a whole
 * resource it read; properties it did not change and annotations are ignored, a changed read-only
 * property is refused naming it (PropertyNotWritable), an unknown one too (PropertyUnknown).
 */
import type { Json, JsonObject } from '../http-types';
import { notWritable, unknownProperty } from '../errors';

const same = (a: Json | undefined, b: Json | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Properties other than `writable` may be sent back unchanged (and annotations ignored); anything else is refused. */
export function onlyWritable(body: JsonObject, current: JsonObject, writable: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (writable.includes(key) || key.includes('@') || same(body[key], current[key])) continue;
    throw key in current ? notWritable(key) : unknownProperty(key);
  }
}
