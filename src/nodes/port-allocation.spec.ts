import { pickFreePort } from './port-allocation';

describe('pickFreePort', () => {
  const range = { first: 100, last: 103 };

  it('takes the lowest port that is neither leased nor to be avoided', () => {
    expect(pickFreePort(range, new Set())).toBe(100);
    expect(pickFreePort(range, new Set([100, 101]))).toBe(102);
    expect(pickFreePort(range, new Set([100]), new Set([101, 102]))).toBe(103);
  });

  it('reuses a port freed in the middle of the range', () => {
    expect(pickFreePort(range, new Set([100, 102, 103]))).toBe(101);
  });

  it('answers null when the range is exhausted', () => {
    expect(pickFreePort(range, new Set([100, 101, 102, 103]))).toBeNull();
    expect(pickFreePort({ first: 5, last: 5 }, new Set(), new Set([5]))).toBeNull();
  });
});
