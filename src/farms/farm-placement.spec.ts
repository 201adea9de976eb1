import { planPlacement } from './farm-placement';

describe('planPlacement', () => {
  it('makes farms of the capacity when there are none', () => {
    expect(planPlacement([], 2000, 4500)).toEqual([
      { farm: 'farm-1', fresh: true, count: 2000 },
      { farm: 'farm-2', fresh: true, count: 2000 },
      { farm: 'farm-3', fresh: true, count: 500 },
    ]);
  });

  it('fills the fullest farm with room first, then the next, then makes a farm after the highest number', () => {
    const farms = [{ name: 'farm-1', used: 10 }, { name: 'farm-4', used: 90 }, { name: 'farm-2', used: 100 }];
    expect(planPlacement(farms, 100, 105)).toEqual([
      { farm: 'farm-4', fresh: false, count: 10 },
      { farm: 'farm-1', fresh: false, count: 90 },
      { farm: 'farm-5', fresh: true, count: 5 },
    ]);
  });

  it('places nothing for nothing and refuses a capacity below one', () => {
    expect(planPlacement([{ name: 'farm-1', used: 3 }], 10, 0)).toEqual([]);
    expect(() => planPlacement([], 0, 1)).toThrow(/capacity/);
  });
});
