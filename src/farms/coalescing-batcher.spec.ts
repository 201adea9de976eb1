import { CoalescingBatcher } from './coalescing-batcher';

describe('CoalescingBatcher', () => {
  it('sends calls that arrive during a flush of their key together, one flush at a time per key', async () => {
    const flushes: Array<[string, number[]]> = [];
    let inFlight = 0;
    let most = 0;
    let release: () => void = () => undefined;
    const batcher = new CoalescingBatcher<number>(async (key, items) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      flushes.push([key, [...items]]);
      if (flushes.length === 1) await new Promise<void>((resolve) => { release = resolve; });
      inFlight -= 1;
    });
    const first = batcher.run('a', [1]);
    const rest = [batcher.run('a', [2]), batcher.run('a', [3, 4]), batcher.run('b', [9])];
    release();
    await Promise.all([first, ...rest]);
    expect(flushes).toEqual([['a', [1]], ['b', [9]], ['a', [2, 3, 4]]]);
    expect(most).toBeLessThanOrEqual(2);
  });

  it('rejects every caller of a failed flush, and the next flush still runs', async () => {
    let calls = 0;
    const batcher = new CoalescingBatcher<string>(async (_key, items) => {
      calls += 1;
      if (items.includes('bad')) throw new Error('farm refused');
    });
    const failing = batcher.run('f', ['bad']);
    await expect(failing).rejects.toThrow('farm refused');
    await expect(batcher.run('f', ['good'])).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });

  it('never flushes one key twice at once', async () => {
    let inFlight = 0;
    let most = 0;
    const batcher = new CoalescingBatcher<number>(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
    });
    await Promise.all(Array.from({ length: 50 }, (_, i) => batcher.run('k', [i])));
    expect(most).toBe(1);
  });
});
