/**
 * Which host port a new lease takes (pure): the lowest port of the range that is neither leased nor
 * known to be taken by something else on the host. The database's unique (kind, port) constraint is
 * what makes a lease exclusive; this only chooses a candidate.
 */
import type { PortRange } from '../config/app-config';

export function pickFreePort(range: PortRange, leased: ReadonlySet<number>, avoid: ReadonlySet<number> = new Set()): number | null {
  for (let port = range.first; port <= range.last; port += 1) {
    if (!leased.has(port) && !avoid.has(port)) return port;
  }
  return null;
}

export function rangeText(range: PortRange): string {
  return `${range.first}-${range.last}`;
}
