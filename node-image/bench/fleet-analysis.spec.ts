import {
  compareCreateRuns, createTimelines, CreateRun, dockerPhases, NodeTiming, ORCHESTRATOR_PHASES, orchestratorPhases, profileSide, runFailure, runTotalMs, summarizeLatency,
} from './fleet-analysis';

const T0 = 1_800_000_000_000;

const node = (name: string, launched: number, answered: number | undefined, requested = 0): NodeTiming => ({
  name, requestedAt: T0 + requested, launchedAt: T0 + launched, ...(answered === undefined ? {} : { answeredAt: T0 + answered }),
});

const run = (side: CreateRun['side'], repetition: number, nodes: NodeTiming[], extra: Partial<CreateRun> = {}): CreateRun => ({
  side, repetition, first: true, startedAt: T0, nodes, ...extra,
});

/** One JSON log line as Nest's ConsoleLogger writes it. */
const log = (at: number, message: string, context = 'DockerodeAdapter'): string =>
  JSON.stringify({ level: 'debug', pid: 1, timestamp: T0 + at, message, context });

describe('fleet bench analysis', () => {
  it('times a run from its start to the last BMC answer, and not at all when one never answered', () => {
    expect(runTotalMs(run('docker', 1, [node('n00', 100, 900), node('n01', 200, 1500)]))).toBe(1500);
    expect(runTotalMs(run('docker', 1, [node('n00', 100, 900), node('n01', 200, undefined)]))).toBeNaN();
    expect(runTotalMs(run('docker', 1, [node('n00', 100, 900)], { error: 'orchestrator did not start' }))).toBeNaN();
    expect(runTotalMs(run('docker', 1, []))).toBeNaN();
  });

  it('names the first failure of a run', () => {
    expect(runFailure(run('docker', 1, [node('n00', 1, 2)]))).toBeUndefined();
    expect(runFailure(run('docker', 1, [node('n00', 1, 2), { name: 'n01', requestedAt: T0, error: 'docker run exited 125: port is already allocated' }])))
      .toBe('1 of 2 BMCs never answered; first: n01: docker run exited 125: port is already allocated');
    expect(runFailure(run('orchestrator', 2, [], { error: 'no /healthz' }))).toBe('no /healthz');
  });

  it('compares the medians of the two sides and checks the 1.3 target', () => {
    const runs = [
      run('orchestrator', 1, [node('a', 1, 12_000)]), run('docker', 1, [node('a', 1, 10_000)]),
      run('orchestrator', 2, [node('a', 1, 14_000)]), run('docker', 2, [node('a', 1, 9_000)]),
      run('orchestrator', 3, [node('a', 1, 13_000)]), run('docker', 3, [node('a', 1, 11_000)]),
    ];
    const c = compareCreateRuns(runs);
    expect(c.orchestrator).toEqual({ side: 'orchestrator', totalsMs: [12_000, 14_000, 13_000], failedRuns: 0, medianMs: 13_000 });
    expect(c.docker.medianMs).toBe(10_000);
    expect(c.ratio).toBeCloseTo(1.3);
    expect(c.met).toBe(true);

    const slower = compareCreateRuns([run('orchestrator', 1, [node('a', 1, 14_000)]), run('docker', 1, [node('a', 1, 10_000)])]);
    expect(slower.met).toBe(false);

    const failed = compareCreateRuns([run('orchestrator', 1, [node('a', 1, undefined)]), run('docker', 1, [node('a', 1, 10_000)])]);
    expect(failed.orchestrator.failedRuns).toBe(1);
    expect(failed.ratio).toBeNaN();
    expect(failed.met).toBe(false);
  });

  it('reads the moments of each create from the orchestrator\'s JSON log, first occurrence only', () => {
    const lines = [
      '{"level":"log","pid":1,"timestamp":', // a torn line
      'not json at all',
      log(10, 'created: node n00 created with IPMI port 20000/udp and VNC port 20100/tcp', 'NodeEvents'),
      log(20, 'creating container fl-n00 (bmcfleet/node:latest)'),
      log(25, 'creating container other-n00 (bmcfleet/node:latest)'), // another fleet
      log(30, 'created container fl-n00 (abc123)'),
      log(31, 'starting container fl-n00'),
      log(40, 'container fl-n00 running'),
      log(41, 'container fl-n00 running'),
      log(45, 'started: container fl-n00 running', 'NodeEvents'),
      log(50, 'created: node n01 created with IPMI port 20001/udp and VNC port 20101/tcp', 'NodeEvents'),
    ];
    const t = createTimelines(lines, 'fl');
    expect(t.get('n00')).toEqual({ rowInserted: T0 + 10, containerCreating: T0 + 20, containerCreated: T0 + 30, containerRunning: T0 + 40, rowRunning: T0 + 45 });
    expect(t.get('n01')).toEqual({ rowInserted: T0 + 50 });
    expect([...t.keys()].sort()).toEqual(['n00', 'n01']);
  });

  it('splits a create into the orchestrator\'s phases, NaN where a moment is missing', () => {
    const n = node('n00', 2_000, 2_100, 0);
    const phases = orchestratorPhases(n, { rowInserted: T0 + 100, containerCreating: T0 + 300, containerCreated: T0 + 500, containerRunning: T0 + 1_200, rowRunning: T0 + 1_210 });
    expect(phases).toEqual([100, 200, 200, 700, 10, 790, 100]);
    expect(phases).toHaveLength(ORCHESTRATOR_PHASES.length);
    expect(orchestratorPhases(n, undefined).slice(0, 6).every(Number.isNaN)).toBe(true);
    expect(dockerPhases(node('n00', 3_000, 4_500, 0))).toEqual([3_000, 1_500]);
    expect(dockerPhases({ name: 'x', requestedAt: T0 })).toEqual([NaN, NaN]);
  });

  it('pools the phases of a side over its successful runs', () => {
    const orchestratorRun = run('orchestrator', 1, [node('n00', 2_000, 2_100), node('n01', 3_000, 3_200)], {
      fleetName: 'fl',
      log: [
        log(100, 'created: node n00 created with IPMI port 1/udp and VNC port 2/tcp', 'NodeEvents'),
        log(300, 'creating container fl-n00 (img)'), log(500, 'created container fl-n00 (id)'), log(1_200, 'container fl-n00 running'),
        log(1_210, 'started: container fl-n00 running', 'NodeEvents'),
        log(200, 'created: node n01 created with IPMI port 3/udp and VNC port 4/tcp', 'NodeEvents'),
        log(400, 'creating container fl-n01 (img)'), log(600, 'created container fl-n01 (id)'), log(2_500, 'container fl-n01 running'),
        log(2_520, 'started: container fl-n01 running', 'NodeEvents'),
      ],
    });
    const failedRun = run('orchestrator', 2, [node('n00', 1, undefined)], { fleetName: 'fl2', log: [] });
    const p = profileSide([orchestratorRun, failedRun, run('docker', 1, [node('n00', 1, 2)])], 'orchestrator');
    expect(p.phases[3]).toMatchObject({ label: 'container start', median: 1_300, max: 1_900, count: 2 });
    expect(p.lastContainerRunningMs).toBe(2_500);
    expect(p.tailMs).toBe(700);

    const d = profileSide([run('docker', 1, [node('n00', 5_000, 6_000), node('n01', 7_000, 7_500)])], 'docker');
    expect(d.phases.map((row) => row.median)).toEqual([6_000, 750]);
    expect(d.lastContainerRunningMs).toBe(7_000);
    expect(d.tailMs).toBe(500);
  });

  it('summarizes latencies with a p95', () => {
    const s = summarizeLatency(Array.from({ length: 101 }, (_, i) => 100 - i));
    expect(s.median).toBe(50);
    expect(s.p95).toBe(95);
    expect(s.count).toBe(101);
  });
});
