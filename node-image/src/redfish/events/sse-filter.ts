/**
 * The `$filter` of an SSE stream (DSP0266 section 13.5.2 "Server-sent events"): terms
 * `Property eq 'value'`, optionally in parentheses, joined by `or`; an event is sent when any term
 * holds. Properties: EventFormatType (Event only), MessageId, RegistryPrefix, ResourceType,
 * OriginResource. Anything else is refused with the reason. Pure.
 */
import type { RedfishEventRecord } from './event-records';
import { registryPrefixOf } from './event-records';

export type SseFilter = (r: RedfishEventRecord) => boolean;

const TERM = /^\(?\s*([A-Za-z]+)\s+eq\s+(?:'([^']*)'|([^\s()']+))\s*\)?$/;

export function parseSseFilter(text: string | undefined): { ok: true; filter: SseFilter } | { ok: false; reason: string } {
  if (text === undefined || text.trim() === '') return { ok: true, filter: () => true };
  if (text.length > 2048) return { ok: false, reason: 'the filter is longer than 2048 characters' };
  const tests: SseFilter[] = [];
  for (const part of text.trim().split(/\s+or\s+/)) {
    const m = TERM.exec(part.trim());
    if (!m) return { ok: false, reason: `'${part.trim()}' is not of the form Property eq 'value' (terms joined by or)` };
    const [, property, quoted, bare] = m;
    const value = quoted ?? bare!;
    switch (property) {
      case 'EventFormatType':
        if (value !== 'Event') return { ok: false, reason: `EventFormatType ${value} is not supported (only Event)` };
        tests.push(() => true);
        break;
      case 'MessageId': tests.push((r) => r.messageId === value); break;
      case 'RegistryPrefix': tests.push((r) => registryPrefixOf(r.messageId) === value); break;
      case 'ResourceType': tests.push((r) => r.resourceType === value); break;
      case 'OriginResource': tests.push((r) => r.origin === value.replace(/\/+$/, '')); break;
      default:
        return { ok: false, reason: `${property} cannot be filtered on (EventFormatType, MessageId, RegistryPrefix, ResourceType, OriginResource)` };
    }
  }
  return { ok: true, filter: (r) => tests.some((t) => t(r)) };
}
