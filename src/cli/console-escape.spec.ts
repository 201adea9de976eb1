import { EscapeAction, EscapeParser } from './console-escape';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Actions as readable tuples: sends as their text. */
function run(parser: EscapeParser, ...chunks: string[]): Array<string | [string]> {
  return chunks.flatMap((c) => parser.feed(b(c))).map((a: EscapeAction) => (a.kind === 'send' ? a.data.toString('latin1') : [a.kind] as [string]));
}

describe('EscapeParser', () => {
  it('passes ordinary typing through in one piece', () => {
    expect(run(new EscapeParser(), 'ls -l\r')).toEqual(['ls -l\r']);
  });

  it('~. at the very start quits, and nothing after it is sent', () => {
    const sut = new EscapeParser();
    expect(run(sut, '~.more')).toEqual([['quit']]);
    expect(sut.quitRequested).toBe(true);
    expect(run(sut, 'ignored')).toEqual([]);
  });

  it('~. after Enter quits, the line before it is still sent', () => {
    expect(run(new EscapeParser(), 'exit\r~.')).toEqual(['exit\r', ['quit']]);
    expect(run(new EscapeParser(), 'x\n~.')).toEqual(['x\n', ['quit']]);
  });

  it('a ~ in the middle of a line is an ordinary character', () => {
    expect(run(new EscapeParser(), 'cd ~.\r')).toEqual(['cd ~.\r']);
  });

  it('keystrokes one by one (raw mode) work like one chunk', () => {
    expect(run(new EscapeParser(), 'a', '\r', '~', '.')).toEqual(['a', '\r', ['quit']]);
  });

  it('~B sends a break, ~? asks for help, both keep the line start', () => {
    expect(run(new EscapeParser(), '~B~?~.')).toEqual([['break'], ['help'], ['quit']]);
  });

  it('~~ sends one ~, after which the line has started', () => {
    expect(run(new EscapeParser(), '~~.')).toEqual(['~.']);
  });

  it('~ followed by another character sends both', () => {
    expect(run(new EscapeParser(), '~x', '~.')).toEqual(['~x', '~.']);
    expect(run(new EscapeParser(), '~\r~.')).toEqual(['~\r', ['quit']]);
  });

  it('a lone ~ at the end of a chunk waits for the next one', () => {
    const sut = new EscapeParser();
    expect(run(sut, 'a\r~')).toEqual(['a\r']);
    expect(run(sut, 'ls')).toEqual(['~ls']);
  });
});
