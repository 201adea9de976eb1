import { sweepOrder } from './farm-sweep';

describe('sweepOrder', () => {
  it('visits every target once, one from each part of the range in turn', () => {
    expect(sweepOrder(10, 3)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 3, 7]);
    expect(sweepOrder(6, 6)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(sweepOrder(3, 10)).toEqual([0, 1, 2]);
    expect(sweepOrder(0, 4)).toEqual([]);
  });

  it('keeps the sessions in flight far apart (every worker of a large farm busy)', () => {
    const order = sweepOrder(100_000, 64);
    expect(new Set(order).size).toBe(100_000);
    const firstWave = order.slice(0, 64);
    // Six workers of ~16,700 consecutive BMCs each: the first 64 sessions reach all of them.
    expect(new Set(firstWave.map((i) => Math.floor(i / 16_667))).size).toBe(6);
  });
});
