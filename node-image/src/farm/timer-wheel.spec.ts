import { TimerWheel } from './timer-wheel';

describe('TimerWheel', () => {
  it('hands out an item at its due time, not before', () => {
    const w = new TimerWheel<string>(100, 8, 0);
    w.schedule('a', 250);
    expect(w.advance(199)).toEqual([]);
    expect(w.advance(249)).toEqual([]);
    expect(w.advance(250)).toEqual(['a']);
    expect(w.size).toBe(0);
    expect(w.advance(10_000)).toEqual([]);
  });

  it('keeps the earlier due time when an item is scheduled again', () => {
    const w = new TimerWheel<string>(100, 8, 0);
    w.schedule('a', 500);
    w.schedule('a', 900);
    expect(w.dueAt('a')).toBe(500);
    w.schedule('a', 150);
    expect(w.dueAt('a')).toBe(150);
    expect(w.advance(200)).toEqual(['a']);
    expect(w.advance(600)).toEqual([]);
  });

  it('waits whole turns for due times beyond one turn of the wheel', () => {
    const w = new TimerWheel<string>(10, 4, 0); // one turn: 40 ms
    w.schedule('far', 125);
    w.schedule('near', 5);
    expect(w.advance(10)).toEqual(['near']);
    expect(w.advance(45)).toEqual([]);
    expect(w.advance(85)).toEqual([]);
    expect(w.advance(124)).toEqual([]);
    expect(w.advance(125)).toEqual(['far']);
  });

  it('hands out everything overdue after a long pause, earliest slot first', () => {
    const w = new TimerWheel<number>(10, 4, 0);
    for (let i = 0; i < 10; i++) w.schedule(i, i * 7);
    expect(w.advance(1_000).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(w.size).toBe(0);
  });

  it('files an item scheduled in the past for the next advance', () => {
    const w = new TimerWheel<string>(100, 8, 1_000);
    w.advance(1_500);
    w.schedule('late', 200);
    expect(w.dueAt('late')).toBe(200);
    expect(w.advance(1_500)).toEqual(['late']);
  });

  it('forgets a cancelled item, also one filed in the past', () => {
    const w = new TimerWheel<string>(100, 8, 0);
    w.schedule('a', 300);
    w.advance(150);
    w.schedule('b', 50);
    w.cancel('a');
    w.cancel('b');
    w.cancel('never-scheduled');
    expect(w.size).toBe(0);
    expect(w.advance(5_000)).toEqual([]);
  });

  it('looks only at the slots the clock passes: 10,000 idle items cost nothing per advance', () => {
    const w = new TimerWheel<number>(100, 1024, 0);
    for (let i = 0; i < 10_000; i++) w.schedule(i, 60_000 + i);
    for (let t = 100; t < 60_000; t += 100) expect(w.advance(t)).toEqual([]);
    expect(w.advance(70_000)).toHaveLength(10_000);
  });

  it('refuses a nonsensical geometry', () => {
    expect(() => new TimerWheel(0, 8, 0)).toThrow(/granularity/);
    expect(() => new TimerWheel(10, 1, 0)).toThrow(/2 slots/);
  });
});
