import { MAX_BMCS_PER_PROCESS, parseOpenFilesLimit, slicesOf, workersNeeded } from './farm-workers';

describe('farm worker planning', () => {
  it('reads the open-files limit from /proc/self/limits', () => {
    const limits = 'Limit                     Soft Limit           Hard Limit           Units\nMax processes             95000                95000                processes\nMax open files            20000                524288               files\n';
    expect(parseOpenFilesLimit(limits)).toBe(20_000);
    expect(parseOpenFilesLimit(limits.replace('20000 ', 'unlimited'))).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseOpenFilesLimit('nothing here')).toBeUndefined();
  });

  it('stays in one process while the sockets fit, and spreads when they do not', () => {
    expect(workersNeeded(10_000, 1, 20_000)).toBe(1);
    expect(workersNeeded(10_000, 2, 20_000)).toBe(2);
    expect(workersNeeded(19_488, 1, 20_000)).toBe(1);
    expect(workersNeeded(19_489, 1, 20_000)).toBe(2);
    expect(workersNeeded(100, 1, 1024)).toBe(1);
    expect(workersNeeded(2_000, 1, 1024)).toBe(4);
  });

  it('spreads a farm larger than one process hosts over more processes (cores)', () => {
    expect(workersNeeded(MAX_BMCS_PER_PROCESS, 1, 1_000_000)).toBe(1);
    expect(workersNeeded(100_000, 1, 1_000_000)).toBe(4);
  });

  it('cuts slices at shard boundaries, covering every BMC once', () => {
    expect(slicesOf(1_000, 2, 256)).toEqual([[0, 512], [512, 1_000]]);
    expect(slicesOf(1_000, 3, 256)).toEqual([[0, 512], [512, 768], [768, 1_000]]);
    expect(slicesOf(100, 4, 256)).toEqual([[0, 100]]); // one shard: one worker
    const slices = slicesOf(100_000, 7, 256);
    expect(slices).toHaveLength(7);
    expect(slices[0]![0]).toBe(0);
    expect(slices[6]![1]).toBe(100_000);
    for (let i = 1; i < slices.length; i++) {
      expect(slices[i]![0]).toBe(slices[i - 1]![1]);
      expect(slices[i]![0] % 256).toBe(0);
    }
  });
});
