/**
 * Calls that arrive while one of the same key is under way wait and then go together (pure apart
 * from the flush it is given): a farm's control call costs a process start inside the farm, so
 * 10,000 node deletes made one by one through the API become a few dozen `rm` calls, not 10,000.
 * Each caller's promise settles with the outcome of the flush that carried its items.
 */
export class CoalescingBatcher<T> {
  private readonly running = new Set<string>();
  private readonly waiting = new Map<string, { items: T[]; settle: Array<{ resolve: () => void; reject: (error: unknown) => void }> }>();

  /** `flush(key, items)` is never run twice at once for one key. */
  constructor(private readonly flush: (key: string, items: readonly T[]) => Promise<void>) {}

  run(key: string, items: readonly T[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queued = this.waiting.get(key) ?? { items: [], settle: [] };
      queued.items.push(...items);
      queued.settle.push({ resolve, reject });
      this.waiting.set(key, queued);
      if (!this.running.has(key)) void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    this.running.add(key);
    try {
      for (let batch = this.waiting.get(key); batch !== undefined; batch = this.waiting.get(key)) {
        this.waiting.delete(key);
        try {
          await this.flush(key, batch.items);
          for (const one of batch.settle) one.resolve();
        } catch (error) {
          for (const one of batch.settle) one.reject(error);
        }
      }
    } finally {
      this.running.delete(key);
    }
  }
}
