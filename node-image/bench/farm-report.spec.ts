import { cpuCap, replaceFarmSection, sweepCpuText } from './farm-report';

describe('replaceFarmSection', () => {
  const section = '## Farm: many simulated BMCs in one process\n\nnew figures\n';

  it('inserts the farm section before "## Reproduce" the first time', () => {
    const doc = '# Benchmarks\n\n## Fleet\n\nfleet\n\n## Reproduce\n\nsteps\n';
    expect(replaceFarmSection(doc, section)).toBe('# Benchmarks\n\n## Fleet\n\nfleet\n\n## Farm: many simulated BMCs in one process\n\nnew figures\n\n## Reproduce\n\nsteps\n');
  });

  it('replaces an earlier farm section and keeps every other one', () => {
    const doc = '# Benchmarks\n\n## Fleet\n\nfleet\n\n## Farm: many simulated BMCs in one process\n\nold figures\n\n### Memory\n\nold\n\n## Reproduce\n\nsteps\n';
    const out = replaceFarmSection(doc, section);
    expect(out).not.toMatch(/old/);
    expect(out).toMatch(/## Fleet\n\nfleet\n\n## Farm: many simulated BMCs in one process\n\nnew figures\n\n## Reproduce\n\nsteps\n$/);
  });
});

describe('sweep CPU figures', () => {
  it('says how many sessions/s two idle cores allow for the CPU both sides take per session', () => {
    expect(cpuCap(2_500)).toBe(800);
    expect(cpuCap(0)).toBe(0);
    expect(sweepCpuText({ attempted: 10, answered: 10, sessionsPerSecond: 100, concurrency: 64, farmCpuUsPerSession: 1_000.4, clientCpuUsPerSession: 600, load: [1, 2] }))
      .toBe('1,000 µs farm + 600 µs client = 1,600 µs, at most 1,250 sessions/s on 2 idle cores');
  });
});
