/**
 * Follows every `@odata.id` from /redfish/v1 (fragments excluded) and checks each resource: 200,
 * ETag header equal to @odata.etag, valid against DMTF JSON Schema, no empty `{}` objects.
 */
import type { RedfishReply } from './redfish-http';
import { expectRedfishValid } from './redfish-schema';

export interface CrawlResult {
  readonly seen: readonly string[];
  readonly problems: readonly string[];
}

export async function crawlRedfish(get: (path: string) => Promise<RedfishReply>, limit = 300): Promise<CrawlResult> {
  const seen = new Set<string>();
  const queue = ['/redfish/v1'];
  const problems: string[] = [];
  while (queue.length > 0 && seen.size < limit) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const r = await get(path);
    if (r.status !== 200) { problems.push(`${path}: ${r.status}`); continue; }
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
  return { seen: [...seen], problems };
}
