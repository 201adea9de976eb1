/**
 * Limits on the shape of a parsed JSON body (pure): how deep it nests and which keys it may hold.
 * The API's bodies are a few levels deep; thousands of levels only exhaust the stack of whatever
 * walks them next. `__proto__`, `constructor` and `prototype` are never fields of this API and are
 * what prototype-pollution payloads need. Walked with an explicit stack, never by recursion.
 */

/** Deepest nesting of objects and arrays a body may have (the API's own bodies use 3). */
export const MAX_JSON_DEPTH = 32;
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** null when the body is acceptable, else a sentence saying what is wrong. */
export function jsonBodyProblem(body: unknown): string | null {
  const stack: { value: unknown; depth: number }[] = [{ value: body, depth: 1 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) return `body must not nest deeper than ${MAX_JSON_DEPTH} levels`;
    const entries = Array.isArray(value) ? value.map((item) => ['', item] as const) : Object.entries(value);
    for (const [key, item] of entries) {
      if (FORBIDDEN_KEYS.has(key)) return `body must not contain the key ${JSON.stringify(key)}`;
      stack.push({ value: item, depth: depth + 1 });
    }
  }
  return null;
}
