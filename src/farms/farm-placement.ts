/**
 * Where new BMCs go (pure): into the existing farms with room, fullest first so farms fill up one
 * after the other, then into new farms of FARM_CAPACITY each.
 */
import { farmIndex, farmName } from './farm-spec';

export interface FarmLoad {
  readonly name: string;
  /** Nodes it hosts (or is about to). */
  readonly used: number;
}

export interface Placement {
  /** A farm's name; `fresh` when it must be made. */
  readonly farm: string;
  readonly fresh: boolean;
  readonly count: number;
}

export function planPlacement(farms: readonly FarmLoad[], capacity: number, count: number): Placement[] {
  if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`farm capacity must be a whole number ≥ 1, not ${capacity}`);
  const out: Placement[] = [];
  let left = count;
  const withRoom = farms.filter((farm) => farm.used < capacity).sort((a, b) => b.used - a.used || farmIndex(a.name) - farmIndex(b.name));
  for (const farm of withRoom) {
    if (left === 0) break;
    const take = Math.min(left, capacity - farm.used);
    out.push({ farm: farm.name, fresh: false, count: take });
    left -= take;
  }
  let next = Math.max(0, ...farms.map((farm) => farmIndex(farm.name))) + 1;
  while (left > 0) {
    const take = Math.min(left, capacity);
    out.push({ farm: farmName(next), fresh: true, count: take });
    next += 1;
    left -= take;
  }
  return out;
}
