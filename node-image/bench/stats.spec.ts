import { formatCount, formatMs, formatRatio, quantile, summarize } from './stats';

describe('bench statistics', () => {
  it('interpolates quantiles between closest ranks', () => {
    const v = [10, 20, 30, 40];
    expect(quantile(v, 0.5)).toBe(25);
    expect(quantile(v, 0)).toBe(10);
    expect(quantile(v, 1)).toBe(40);
    expect(quantile(v, 0.9)).toBeCloseTo(37);
    expect(quantile([7], 0.9)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('summarizes unsorted samples', () => {
    const s = summarize([5, 1, 3, 2, 4]);
    expect(s).toEqual({ count: 5, min: 1, median: 3, p90: 4.6, p99: expect.closeTo(4.96) as number, max: 5, mean: 3 });
    expect(summarize([]).count).toBe(0);
    expect(summarize([]).median).toBeNaN();
  });

  it('formats times, ratios and counts for the report', () => {
    expect(formatMs(28.44)).toBe('28.4 ms');
    expect(formatMs(1234.5)).toBe('1235 ms');
    expect(formatMs(NaN)).toBe('–');
    expect(formatRatio(30, 40)).toBe('0.75×');
    expect(formatRatio(30, NaN)).toBe('–');
    expect(formatCount(23456.7)).toBe('23,457');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1_000_000)).toBe('1,000,000');
  });
});
