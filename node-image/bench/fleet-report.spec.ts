import type { CreateRun, NodeTiming } from './fleet-analysis';
import { FleetReport, renderFleet } from './fleet-report';
import { insertBeforeReproduce } from './node-runtime-report';
import { DEFAULT_OPTIONS, parseOptions } from './run-bench';

const T0 = 1_800_000_000_000;

const nodes = (count: number, launched: number, answered: number | undefined): NodeTiming[] =>
  Array.from({ length: count }, (_, i) => ({ name: `n${i}`, requestedAt: T0, launchedAt: T0 + launched, ...(answered === undefined ? {} : { answeredAt: T0 + answered + i }) }));

const run = (side: CreateRun['side'], repetition: number, totalMs: number | undefined, first = true): CreateRun => ({
  side, repetition, first, startedAt: T0, nodes: nodes(2, 1_000, totalMs === undefined ? undefined : totalMs - 1), ...(side === 'orchestrator' ? { fleetName: `f${repetition}`, log: [] } : {}),
});

const base: FleetReport = {
  nodes: 2,
  runs: 2,
  image: 'bmcfleet/node:latest',
  imageId: 'sha256:c2f5739b0f82c628f8a0d23b0bac57b0ca1124cc73924aa0468ca807c086476a',
  dockerVersion: '20.10.24',
  dockerRunArgs: ['run', '-d', '--name', 'x-d1-n00', 'bmcfleet/node:latest'],
  orchestratorEnv: { LOG_LEVEL: 'debug' },
  createRuns: [run('orchestrator', 1, 12_000), run('docker', 1, 10_000, false), run('docker', 2, 11_000), run('orchestrator', 2, 13_000, false)],
  listing: {
    nodes: 200,
    responseBytes: 128_801,
    sequential: { samples: [...Array.from({ length: 95 }, () => 10), 30, 30, 30, 30, 30], cpuMsPerRequest: 9.5 },
    concurrent: { clients: 10, requests: 1_000, latencies: Array.from({ length: 1_000 }, () => 100), failures: 0, elapsedMs: 10_000, cpuMsPerRequest: 11 },
  },
  cleanupProblems: [],
  durationS: 99.6,
};

describe('fleet bench report', () => {
  it('states the target with both medians and the ratio', () => {
    const text = renderFleet(base);
    expect(text).toMatch(/^## Fleet: 50 nodes and the nodes API\n/);
    expect(text).toContain('12.5 s against 10.5 s (medians), ratio 1.19× — met.');
    expect(text).toContain('| 1 | orchestrator (POST /api/v1/nodes) | first | 2 / 2 | 12.0 s |');
    expect(text).toContain('| 2 | orchestrator (POST /api/v1/nodes) | second | 2 / 2 | 13.0 s |');
    expect(text).toContain('| **Median** | `docker run` | | | **10.5 s** |');
    expect(text).toContain('docker run -d --name x-d1-n00 bmcfleet/node:latest');
    expect(text).toContain('(c2f5739b0f82)');
    expect(text).toContain('in 100 s.');
  });

  it('says how much a missed target misses by, and lists failed runs', () => {
    const text = renderFleet({ ...base, createRuns: [run('orchestrator', 1, 20_000), run('docker', 1, 10_000), run('orchestrator', 2, undefined)] });
    expect(text).toContain('ratio 2.00× — **not met**.');
    expect(text).toContain('The target is missed by 7.0 s.');
    expect(text).toContain('- Repetition 2, orchestrator: 2 of 2 BMCs never answered; first: n0: no answer.');
    expect(text).toContain('| 2 | orchestrator (POST /api/v1/nodes) | first | 0 / 2 | – |');
  });

  it('renders the listing latencies and rates', () => {
    const text = renderFleet(base);
    expect(text).toContain('### GET /api/v1/nodes with 200 nodes');
    expect(text).toContain('128,801 bytes of JSON per response');
    expect(text).toContain('| 1 (sequential) | 100 | **10.0 ms** | **11.0 ms** | 30.0 ms | 30.0 ms | 91 | 9.5 ms |');
    expect(text).toContain('| 10 | 1000 | 100 ms | 100 ms | 100 ms | 100 ms | **100** | 11.0 ms |');
  });

  it('says why a part was skipped or failed', () => {
    const skipped = renderFleet({ ...base, createRuns: [], createSkipped: 'no Docker engine answers', listing: { nodes: 200, error: 'GET /api/v1/nodes answered 500' } });
    expect(skipped).toContain('Skipped: no Docker engine answers.');
    expect(skipped).toContain('Failed: GET /api/v1/nodes answered 500.');
    const unbuilt = renderFleet({ ...base, createRuns: [], createSkipped: 'not built', listingSkipped: 'not built' });
    expect(unbuilt.match(/Skipped: not built\./g)).toHaveLength(2);
    expect(renderFleet({ ...base, cleanupProblems: ['docker rm: busy'] })).toContain('Clean-up problems: docker rm: busy.');
  });

  it('goes before the Reproduce section of the whole report', () => {
    const doc = insertBeforeReproduce('# Benchmarks\n\n## Machine\n\n## Reproduce\n\nsteps\n', renderFleet(base));
    expect(doc.indexOf('## Fleet')).toBeGreaterThan(doc.indexOf('## Machine'));
    expect(doc.indexOf('## Fleet')).toBeLessThan(doc.indexOf('## Reproduce'));
  });

  it('takes --fleet-runs on the bench command line', () => {
    expect(parseOptions(['--fleet-runs', '0'])).toEqual({ ...DEFAULT_OPTIONS, fleetRuns: 0 });
    expect(DEFAULT_OPTIONS.fleetRuns).toBe(3);
    expect(() => parseOptions(['--fleet-runs', '21'])).toThrow('--fleet-runs needs a whole number from 0 to 20');
  });
});
