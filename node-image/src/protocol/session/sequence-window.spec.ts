import { acceptSequence, EMPTY_WINDOW, nextOutboundSequence, SequenceWindow } from './sequence-window';

function feed(seqs: number[], start: SequenceWindow = EMPTY_WINDOW): Array<boolean> {
  let w = start;
  return seqs.map((s) => {
    const next = acceptSequence(w, s);
    if (next) w = next;
    return next !== null;
  });
}

describe('inbound sequence window (reference 5.1)', () => {
  it('accepts whatever first number arrives (ipmitool starts at 3, 5 or 7)', () => {
    expect(feed([7, 8, 9])).toEqual([true, true, true]);
  });
  it('never accepts 0', () => expect(feed([0, 5, 0])).toEqual([false, true, false]));
  it('drops duplicates and replays', () => expect(feed([5, 6, 6, 5, 7])).toEqual([true, true, false, false, true]));
  it('accepts up to 32 ahead, and unseen numbers up to 16 behind', () => {
    expect(feed([100, 132, 133 + 40])).toEqual([true, true, false]);
    expect(feed([100, 110, 105, 94, 93, 105])).toEqual([true, true, true, true, false, false]);
  });
  it('wraps around 2^32', () => expect(feed([0xfffffffe, 0xffffffff, 1, 2])).toEqual([true, true, true, true]));
  it('the BMC counts 1, 2, … and skips 0 on wrap', () => {
    expect(nextOutboundSequence(0)).toBe(1);
    expect(nextOutboundSequence(41)).toBe(42);
    expect(nextOutboundSequence(0xffffffff)).toBe(1);
  });
});
