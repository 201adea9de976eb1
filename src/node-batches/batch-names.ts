/**
 * The names of a batch's nodes (pure): `<namePrefix>-<n>` for n from firstIndex on, the numbers
 * zero-padded to the width of the last one (rack1-001 … rack1-200), so the fleet's name order is the
 * batch's order. Every name must be a node name (NODE_NAME_PATTERN, at most 40 characters).
 */
import { NODE_NAME_PATTERN } from '../nodes/node.model';

/** Nodes one batch creates at most. */
export const MAX_BATCH_NODES = 10_000;
/** What a prefix may be: a node name without its number (it may end with a letter or digit, not "-"). */
export const NAME_PREFIX_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
export const NAME_PREFIX_RULE = 'lower-case letters, digits and "-", starting and ending with a letter or digit';
const MAX_NAME_LENGTH = 40;

export class BatchNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BatchNameError';
  }
}

export function batchNames(namePrefix: string, count: number, firstIndex: number): string[] {
  if (!NAME_PREFIX_PATTERN.test(namePrefix)) throw new BatchNameError(`namePrefix must be ${NAME_PREFIX_RULE}`);
  if (!Number.isInteger(count) || count < 1 || count > MAX_BATCH_NODES) throw new BatchNameError(`count must be a whole number from 1 to ${MAX_BATCH_NODES}`);
  const last = firstIndex + count - 1;
  const width = String(last).length;
  const longest = namePrefix.length + 1 + width;
  if (longest > MAX_NAME_LENGTH) {
    throw new BatchNameError(`namePrefix "${namePrefix}" is too long for ${count} nodes: names like ${namePrefix}-${last} have ${longest} characters, at most ${MAX_NAME_LENGTH}`);
  }
  const names = Array.from({ length: count }, (_, i) => `${namePrefix}-${String(firstIndex + i).padStart(width, '0')}`);
  // The pattern holds for every name built this way; checked so a change of either rule shows here.
  const bad = names.find((name) => !NODE_NAME_PATTERN.test(name));
  if (bad !== undefined) throw new BatchNameError(`${bad} would not be a valid node name`);
  return names;
}
