import { LogDigest } from './log-digest';
import type { Logger } from './logger';

function recorder(): { log: Logger; lines: Array<{ msg: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const push = (msg: string, fields?: Record<string, unknown>): void => { lines.push({ msg, fields }); };
  return { log: { debug: push, info: push, warn: push, error: push }, lines };
}

describe('LogDigest', () => {
  it('logs the first lines of each kind, counts the rest and sums them up once the interval is over', () => {
    const { log, lines } = recorder();
    const sut = new LogDigest(log, { intervalMs: 60_000, detailedPerKind: 2 });
    for (let i = 0; i < 1000; i++) sut.note('wrong password', 1000 + i, 'login refused: wrong password', { remote: '192.0.2.1' });
    for (let i = 0; i < 500; i++) sut.count('dropped malformed', 2000 + i);
    expect(lines.map((l) => l.msg)).toEqual(['login refused: wrong password', 'login refused: wrong password']);
    sut.flush(60_999);
    expect(lines).toHaveLength(2);
    sut.flush(61_000);
    expect(lines[2]).toEqual({
      msg: 'refused or dropped traffic (summary)',
      fields: { intervalSeconds: 60, notLogged: 1498, counts: { 'dropped malformed': 500, 'wrong password': 1000 } },
    });
    // A new interval starts with details again.
    sut.note('wrong password', 70_000, 'login refused: wrong password');
    expect(lines).toHaveLength(4);
  });

  it('writes no summary when every event got its own line', () => {
    const { log, lines } = recorder();
    const sut = new LogDigest(log, { intervalMs: 1000, detailedPerKind: 3 });
    sut.note('a', 0, 'a');
    sut.flush(5000);
    expect(lines.map((l) => l.msg)).toEqual(['a']);
  });
});
