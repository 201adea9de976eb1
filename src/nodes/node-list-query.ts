/**
 * GET /api/v1/nodes: filters, pages and the opaque cursor (pure).
 *
 * - Order: by name (unique, so the order is total and stable while nodes come and go).
 * - `name` is a **prefix** filter: it walks the name index, which a substring filter could not use
 *   on a fleet of 100,000 rows.
 * - A page is asked for with `limit` and/or `cursor`; its answer is `{ items, nextCursor }`, where
 *   `nextCursor` is null on the last page. Without either, the list keeps its original shape (an
 *   array of every matching node), so clients of small fleets see no change.
 * - The cursor carries the last name of its page and the filters it was issued for; it is accepted
 *   only with the same filters (a client that changes its filters starts again from the first page).
 */
import { MACHINES, type MachineKind, type PowerState } from './node.model';

export const POWER_STATES = ['on', 'off', 'unknown'] as const satisfies readonly PowerState[];
/** A page holds at most this many nodes. */
export const MAX_PAGE_LIMIT = 1_000;
/** The page size when a cursor comes without a limit. */
export const DEFAULT_PAGE_LIMIT = 100;
/** What the name prefix may hold: the characters of node names (NODE_NAME_PATTERN), 1–40 of them. */
export const NAME_PREFIX_PATTERN = /^[a-z0-9-]{1,40}$/;
/** Past every character a node name can hold: `name < prefix + NAME_PREFIX_END` bounds a prefix range. */
export const NAME_PREFIX_END = '\u{10FFFF}';

export interface NodeListFilters {
  readonly name?: string;
  readonly machine?: MachineKind;
  readonly powerState?: PowerState;
}

/** What the controller hands over (already validated field by field by the query DTO). */
export interface NodeListRequest extends NodeListFilters {
  readonly limit?: number;
  readonly cursor?: string;
}

export type NodeListPlan =
  | { readonly paged: false; readonly filters: NodeListFilters }
  | { readonly paged: true; readonly filters: NodeListFilters; readonly limit: number; readonly after: string | null };

export class NodeListQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeListQueryError';
  }
}

interface CursorBody {
  readonly v: 1;
  /** The last name of the page the cursor follows. */
  readonly after: string;
  readonly f: NodeListFilters;
}

function filtersOf(request: NodeListFilters): NodeListFilters {
  return {
    ...(request.name === undefined ? {} : { name: request.name }),
    ...(request.machine === undefined ? {} : { machine: request.machine }),
    ...(request.powerState === undefined ? {} : { powerState: request.powerState }),
  };
}

function sameFilters(a: NodeListFilters, b: NodeListFilters): boolean {
  return a.name === b.name && a.machine === b.machine && a.powerState === b.powerState;
}

function filtersText(filters: NodeListFilters): string {
  const parts = Object.entries(filters).map(([key, value]) => `${key}=${String(value)}`);
  return parts.length === 0 ? 'no filters' : parts.join('&');
}

export function encodeCursor(after: string, filters: NodeListFilters): string {
  const body: CursorBody = { v: 1, after, f: filtersOf(filters) };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

function isCursorBody(value: unknown): value is CursorBody {
  if (typeof value !== 'object' || value === null) return false;
  const body = value as Record<string, unknown>;
  if (body['v'] !== 1 || typeof body['after'] !== 'string' || typeof body['f'] !== 'object' || body['f'] === null) return false;
  const f = body['f'] as Record<string, unknown>;
  return (
    Object.keys(f).every((key) => key === 'name' || key === 'machine' || key === 'powerState') &&
    (f['name'] === undefined || (typeof f['name'] === 'string' && NAME_PREFIX_PATTERN.test(f['name']))) &&
    (f['machine'] === undefined || MACHINES.some((machine) => machine === f['machine'])) &&
    (f['powerState'] === undefined || POWER_STATES.some((state) => state === f['powerState']))
  );
}

export function decodeCursor(cursor: string): CursorBody {
  let value: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = null;
  }
  if (!isCursorBody(value)) throw new NodeListQueryError('cursor is not one this API issued: pass the nextCursor of an earlier page unchanged');
  return value;
}

/** What to query: every matching node, or one page after a name. */
export function planNodeList(request: NodeListRequest): NodeListPlan {
  const filters = filtersOf(request);
  if (request.limit === undefined && request.cursor === undefined) return { paged: false, filters };
  const limit = request.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) throw new NodeListQueryError(`limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  if (request.cursor === undefined) return { paged: true, filters, limit, after: null };
  const cursor = decodeCursor(request.cursor);
  if (!sameFilters(cursor.f, filters)) {
    throw new NodeListQueryError(`cursor was issued for ${filtersText(cursor.f)}, not ${filtersText(filters)}: repeat the first page's filters with it, or start again without cursor`);
  }
  return { paged: true, filters, limit, after: cursor.after };
}

/**
 * The page answer from up to limit + 1 rows (the extra row only tells that more follow), in name
 * order; nextCursor continues after the page's last item.
 */
export function pageOf<T extends { readonly name: string }>(rows: readonly T[], limit: number, filters: NodeListFilters): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.name, filters) : null };
}
