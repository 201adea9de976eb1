/**
 * The schema-validating Redfish crawler shared by the agent's and the fleet endpoint's tests:
 * follows every `@odata.id` from a start URI (fragments excepted), expects 200, an ETag header equal
 * to `@odata.etag`, a body valid against DMTF's JSON Schema (redfish-schema.ts) and no empty `{}`
 * object. Bounded: at most `limit` resources.
 */
import type { RedfishReply } from './redfish-http';
import { expectRedfishValid } from './redfish-schema';

export interface CrawlResult {
  /** Every URI fetched, in order. */
  readonly seen: string[];
  /** One line per problem (empty when everything is right). */
  readonly problems: string[];
}

export async function crawlRedfish(get: (path: string) => Promise<RedfishReply>, start = '/redfish/v1', limit = 200): Promise<CrawlResult> {
  const seen = new Set<string>();
  const queue = [start];
  const problems: string[] = [];
  while (queue.length > 0 && seen.size < limit) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const r = await get(path);
    if (r.status !== 200) { problems.push(`${path}: ${r.status} ${r.text.slice(0, 300)}`); continue; }
    if (r.headers.etag !== r.body['@odata.etag']) problems.push(`${path}: ETag header ${String(r.headers.etag)} differs from @odata.etag`);
    try { await expectRedfishValid(r.body); } catch (e) { problems.push(`${path}: ${(e as Error).message.slice(0, 2000)}`); }
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) { v.forEach(walk); return; }
      if (v === null || typeof v !== 'object') return;
      const o = v as Record<string, unknown>;
      if (Object.keys(o).length === 0) problems.push(`${path}: an empty {} object`);
      if (typeof o['@odata.id'] === 'string' && !(o['@odata.id'] as string).includes('#')) queue.push(o['@odata.id'] as string);
      Object.values(o).forEach(walk);
    };
    walk(r.body);
  }
  if (queue.some((path) => !seen.has(path))) problems.push(`more than ${limit} resources: the crawl stopped before it saw them all`);
  return { seen: [...seen], problems };
}
