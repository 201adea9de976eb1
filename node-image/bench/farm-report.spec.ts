import { replaceFarmSection } from './farm-report';

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
