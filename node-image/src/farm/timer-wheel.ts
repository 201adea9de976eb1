/**
 * A hashed timer wheel: one clock for many BMCs. An item is filed in the slot of its due time and
 * only the slots the clock passes are looked at, so BMCs with nothing pending cost nothing per
 * tick. Pure: the caller says what time it is (farm.ts drives it from one interval).
 *
 * Due times beyond one turn of the wheel stay in their slot and are skipped until their turn comes.
 * An item has one due time: scheduling it again keeps the earlier one (a call that comes early is
 * harmless, the BMC then names its next deadline again).
 */
export class TimerWheel<T> {
  private readonly slots: Set<T>[];
  private readonly due = new Map<T, number>();
  /** Start of the slot that advance() looks at next. */
  private cursor: number;

  constructor(
    private readonly granularityMs: number,
    slotCount: number,
    start: number,
  ) {
    if (!Number.isInteger(granularityMs) || granularityMs < 1) throw new Error(`timer wheel granularity must be a whole number of ms ≥ 1, not ${granularityMs}`);
    if (!Number.isInteger(slotCount) || slotCount < 2) throw new Error(`timer wheel needs at least 2 slots, not ${slotCount}`);
    this.slots = Array.from({ length: slotCount }, () => new Set<T>());
    this.cursor = this.slotStart(start);
  }

  /** Items waiting. */
  get size(): number { return this.due.size; }

  /** When `item` is due, or undefined when it is not scheduled. */
  dueAt(item: T): number | undefined { return this.due.get(item); }

  /** Files `item` for `at`; when it is already due earlier, nothing changes. */
  schedule(item: T, at: number): void {
    const current = this.due.get(item);
    if (current !== undefined) {
      if (current <= at) return;
      this.slotOf(Math.max(current, this.cursor)).delete(item);
    }
    // Anything already past is filed at the cursor: the next advance() hands it out.
    const filed = Math.max(at, this.cursor);
    this.due.set(item, at);
    this.slotOf(filed).add(item);
  }

  cancel(item: T): void {
    const at = this.due.get(item);
    if (at === undefined) return;
    this.due.delete(item);
    this.slotOf(Math.max(at, this.cursor)).delete(item);
  }

  /** Removes and returns every item due at or before `now`, earliest slot first. */
  advance(now: number): T[] {
    const out: T[] = [];
    const last = this.slotStart(now);
    if (last < this.cursor) return out;
    // More than one turn behind: every slot is looked at once.
    const turns = Math.min(this.slots.length, (last - this.cursor) / this.granularityMs + 1);
    for (let i = 0; i < turns; i++) {
      const slot = this.slotOf(this.cursor + i * this.granularityMs);
      for (const item of slot) {
        if (this.due.get(item)! <= now) { out.push(item); slot.delete(item); this.due.delete(item); }
      }
    }
    this.cursor = last;
    // Items due later in `now`'s own slot stay there; the cursor stays on it until time moves past.
    return out;
  }

  private slotStart(t: number): number { return Math.floor(t / this.granularityMs) * this.granularityMs; }

  private slotOf(t: number): Set<T> {
    const n = this.slots.length;
    return this.slots[((Math.floor(t / this.granularityMs) % n) + n) % n]!;
  }
}
