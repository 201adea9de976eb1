import { HiddenLine } from './hidden-line';

const feed = (line: HiddenLine, s: string): ReturnType<HiddenLine['feed']> => line.feed(Buffer.from(s, 'latin1'));

describe('HiddenLine', () => {
  it('ends at Enter, typed in pieces', () => {
    const sut = new HiddenLine();
    expect(feed(sut, 'sec')).toEqual({ kind: 'typing' });
    expect(feed(sut, 'ret\r')).toEqual({ kind: 'done', line: 'secret' });
  });

  it('Backspace and DEL take back, Ctrl-U clears, other control characters are ignored', () => {
    expect(feed(new HiddenLine(), 'pax\x7fss\x08s\x01word\n')).toEqual({ kind: 'done', line: 'password' });
    expect(feed(new HiddenLine(), 'wrong\x15right\r')).toEqual({ kind: 'done', line: 'right' });
  });

  it('Ctrl-C cancels; Ctrl-D cancels only on an empty line', () => {
    expect(feed(new HiddenLine(), 'abc\x03')).toEqual({ kind: 'cancelled' });
    expect(feed(new HiddenLine(), '\x04')).toEqual({ kind: 'cancelled' });
    expect(feed(new HiddenLine(), 'a\x04b\r')).toEqual({ kind: 'done', line: 'ab' });
  });

  it('an empty line is a (empty) answer; input after the end is ignored', () => {
    const sut = new HiddenLine();
    expect(feed(sut, '\rmore')).toEqual({ kind: 'done', line: '' });
    expect(feed(sut, 'x\r')).toEqual({ kind: 'done', line: '' });
  });
});
