import { redfishRatio, renderRedfish, replaceRedfishSection, REDFISH_SECTION_TITLE } from './redfish-bench-report';
import type { RedfishBenchReport, RedfishCaseResult } from './redfish-bench';

const run = (server: 'agent' | 'floor', us: number): RedfishCaseResult => ({ server, requests: 1000, elapsedMs: 1000, requestsPerSecond: 1000, serverCpuUsPerRequest: us, failures: 0 });

describe('Redfish bench report', () => {
  it('takes the ratio within each run (sides measured back to back) and its median', () => {
    const r = redfishRatio([run('agent', 300), run('floor', 200), run('floor', 100), run('agent', 200), run('agent', 130), run('floor', 100)]);
    expect(r.perRun).toEqual([1.5, 2, 1.3]);
    expect(r.ratio).toBe(1.5);
    expect([r.agentUs, r.floorUs]).toEqual([200, 100]);
  });

  it('renders the verdict and replaces only its own section', () => {
    const report: RedfishBenchReport = { requests: 1000, connections: 4, repeat: 1, pinned: undefined, responseBytes: 1295, runs: [run('agent', 120), run('floor', 100)] };
    const section = renderRedfish(report, { date: '2026-01-01T00:00:00Z', machine: 'test', seconds: 1 });
    expect(section).toContain('ratio 1.20×');
    expect(section).toContain('— met.');
    const doc = `# B\n\n## A\n\na\n\n${REDFISH_SECTION_TITLE}\n\nold\n\n## Reproduce\n\nr\n`;
    const out = replaceRedfishSection(doc, section);
    expect(out).not.toContain('old');
    expect(out.indexOf('## A')).toBeLessThan(out.indexOf(REDFISH_SECTION_TITLE));
    expect(out.indexOf(REDFISH_SECTION_TITLE)).toBeLessThan(out.indexOf('## Reproduce'));
    expect(replaceRedfishSection('# B\n\n## Reproduce\n', section)).toMatch(new RegExp(`${REDFISH_SECTION_TITLE}[\\s\\S]*## Reproduce`));
  });
});
