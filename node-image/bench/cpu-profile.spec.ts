import { shortUrl, summarizeProfile, type CpuProfile } from './cpu-profile';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

describe('CPU profile summary', () => {
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 10_000,
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5] },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('doSend', 'node:dgram', 686) },
      { id: 4, callFrame: frame('handleDatagram', 'file:///repo/node-image/dist/bmc/bmc-engine.js', 66) },
      { id: 5, callFrame: frame('(garbage collector)') },
    ],
    // 4 ms idle, 3 ms in doSend, 2 ms in the engine, 1 ms GC (time deltas in microseconds).
    samples: [2, 2, 3, 4, 3, 2, 5, 3, 4, 2],
    timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  };

  it('adds self time per function and per file, idle apart', () => {
    const s = summarizeProfile(profile, { repoRoot: '/repo' });
    expect(s.totalMs).toBe(10);
    expect(s.idleMs).toBe(4);
    expect(s.busyMs).toBe(6);
    expect(s.functions.map((r) => [r.name, r.selfMs, Math.round(r.percent)])).toEqual([
      ['doSend node:dgram:687', 3, 50],
      ['handleDatagram node-image/dist/bmc/bmc-engine.js:67', 2, 33],
      ['(garbage collector)', 1, 17],
    ]);
    expect(s.files.map((r) => r.name)).toEqual(['node:dgram', 'node-image/dist/bmc/bmc-engine.js', '(garbage collector)']);
  });

  it('falls back to hit counts when there are no samples', () => {
    const s = summarizeProfile({
      startTime: 0, endTime: 4000,
      nodes: [{ id: 1, callFrame: frame('a', 'node:x'), hitCount: 3 }, { id: 2, callFrame: frame('(idle)'), hitCount: 1 }],
    });
    expect(s.busyMs).toBe(3);
    expect(s.functions[0]).toEqual({ name: 'a node:x:1', selfMs: 3, percent: 100 });
  });

  it('shortens file URLs inside the repository', () => {
    expect(shortUrl('file:///repo/a/b.js', '/repo')).toBe('a/b.js');
    expect(shortUrl('node:dgram', '/repo')).toBe('node:dgram');
    expect(shortUrl('')).toBe('(native)');
  });
});
