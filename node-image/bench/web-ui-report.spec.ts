import { renderWebUi, replaceWebUiSection, WEB_UI_HEADING } from './web-ui-report';

const insert = (doc: string, section: string): string => doc.replace('\n## Reproduce\n', `\n${section}\n## Reproduce\n`);

describe('web UI report', () => {
  const section = renderWebUi({
    chromium: '156',
    ranAt: '2026-12-07T20:30:00.000Z',
    machine: '2 cores (Example CPU), 24 GiB',
    loadAverage: [1, 2],
    loadsMs: [900, 1100, 1000],
    churn: { asked: 300, skipped: 0, changes: 310, busy: 0, unanswered: 0, seconds: 14.9, settledSeconds: 15.2, lagMs: { p50: 1, p99: 40, max: 90 }, keys: 70, keyToPaintMs: { p50: 16, p99: 48, max: 64 }, longTasks: 0, longestTaskMs: 0, probeMs: [200, 300], probesMissed: 0, consistentAfterMs: 800 },
  });

  it('states both targets with the median load and the p99 key-to-paint time', () => {
    expect(section).toContain(WEB_UI_HEADING);
    expect(section).toContain('Run on 2026-12-07 (20:30 UTC) on 2 cores (Example CPU), 24 GiB.');
    expect(section).toContain('median 1000 ms over 3 loads (slowest 1100 ms) — met');
    expect(section).toContain('p99 48 ms (worst 64 ms) over 70 keys during 310 power changes in 15.2 s — met');
  });

  it('gives the rate the ticks kept and the rate the BMCs answered', () => {
    expect(section).toContain('| power changes asked by the ticks | 300 in 14.9 s (20.1 a second started) |');
    expect(section).toContain('| power changes made on the BMCs (probe included) | 310, the last answered 15.2 s after the first tick (20.4 a second); 0 more answered 0xC0 (busy), 0 not answered |');
  });

  it('says how soon the page showed every BMC\'s power after the churn', () => {
    expect(section).toContain('| page equals every BMC\'s power after the churn | yes, all rows, 800 ms after the last change was answered |');
  });

  it('says so when the ticks fell behind or skipped changes', () => {
    const late = renderWebUi({ loadsMs: [900], churn: { asked: 300, skipped: 12, changes: 250, busy: 0, unanswered: 0, seconds: 18, settledSeconds: 20, lagMs: { p50: 1, p99: 40, max: 90 }, keys: 70, keyToPaintMs: { p50: 16, p99: 48, max: 64 }, longTasks: 0, longestTaskMs: 0, probeMs: [200], probesMissed: 0, consistentAfterMs: null } });
    expect(late).toContain('**no**, not within 30 s');
    expect(late).toContain('**12 not started**: 60 unanswered already');
    expect(late).toContain('**the stated 20 a second for 15 s was not kept**');
  });

  it('replaces an earlier section and leaves the rest', () => {
    const doc = `# Benchmarks\n\n## Fleet\n\nx\n\n${WEB_UI_HEADING}\n\nprevious-section-text\n\n## Reproduce\n\ny\n`;
    const out = replaceWebUiSection(doc, section, insert);
    expect(out).not.toContain('previous-section-text');
    expect(out).toContain('## Fleet\n\nx\n');
    expect(out.indexOf(WEB_UI_HEADING)).toBeLessThan(out.indexOf('## Reproduce'));
    expect(out.match(new RegExp(WEB_UI_HEADING, 'g'))).toHaveLength(1);
  });
});
