import { renderReport, type BenchReport } from './report';
import { summarize } from './stats';
import { THROUGHPUT_COMMANDS, type ThroughputResult } from './session-throughput';
import type { IpmitoolTiming } from './ipmitool-timing';
import { parseOptions, DEFAULT_OPTIONS } from './run-bench';

const timing = (server: string, suite: number | undefined, samples: number[]): IpmitoolTiming => ({
  target: { label: server === 'agent' ? 'bmcfleet agent' : 'ipmi_sim', server, port: 1, ...(suite === undefined ? {} : { suite }) },
  attempted: samples.length,
  failures: 0,
  samples,
  summary: summarize(samples),
});

const rate = (suite: number, rps: number, ok = true): ThroughputResult => ({
  case: { suite, command: THROUGHPUT_COMMANDS[0]!, count: 1000, window: 16, warmup: 0, timeoutMs: 1000 },
  ok,
  completed: ok ? 1000 : 0,
  elapsedMs: 1000,
  requestsPerSecond: rps,
  retransmits: 0,
  badCompletionCodes: {},
  ...(ok ? { latencyMs: { p50: 0.5, p99: 2, max: 3 }, agentCpuUsPerRequest: 40, clientCpuUsPerRequest: 30 } : { error: 'login failed' }),
});

const base: BenchReport = {
  date: new Date('2026-01-02T03:04:05Z'),
  durationS: 42,
  machine: { cpu: 'Test CPU', cores: 2, node: 'v20.0.0', kernel: 'Linux 6', loadAverage: [0.5, 0.4, 0.3], ipmitool: 'ipmitool version 1.8.19', ipmiSim: 'IPMI Simulator version 1.0.13' },
  settings: { runs: 3, warmup: 1, requests: 1000, window: 16, throughputWarmup: 0, repeat: 1, sessions: 2, sessionWarmup: 0 },
  timings: [timing('agent', 3, [20, 22, 24]), timing('ipmi_sim', 3, [30, 32, 34]), timing('agent', undefined, [21, 23, 25])],
  sessionTimings: [
    { target: { label: 'bmcfleet agent', server: 'agent', port: 1 }, attempted: 2, failures: 0, summary: summarize([1, 1.2]), serverCpuMsPerSession: 0.6 },
    { target: { label: 'ipmi_sim', server: 'ipmi_sim', port: 2 }, attempted: 2, failures: 0, summary: summarize([0.5, 0.7]), serverCpuMsPerSession: 0.2 },
  ],
  negotiatedSuite: 17,
  throughput: [rate(3, 25_000), rate(17, 21_000)],
};

describe('benchmark report', () => {
  it('states both targets with the measured numbers', () => {
    const text = renderReport(base);
    expect(text).toContain('22.0 ms against 32.0 ms, ratio 0.69× — met');
    expect(text).toContain('lowest 21,000 req/s — met');
    expect(text).toContain('| **Ratio agent / ipmi_sim**, -C 3 | | | **0.69×** |');
    expect(text).toContain('| bmcfleet agent | none given (ipmitool chose 17) | 3 / 3 |');
    expect(text).toContain('| 17 | Get Device ID | 1,000 | 16 | 1000 ms | **21,000** | 21,000 | 0.5 ms | 2.0 ms | 0 | 40.0 µs | 30.0 µs | yes |');
    expect(text).toContain('would serve about 25,000 requests per second');
    expect(text).toContain('Test CPU');
    expect(text).toContain('| bmcfleet agent | 2 / 2 | 1.10 ms | 1.18 ms | 1.00 ms | 1.20 ms | 0.60 ms |');
    expect(text).toContain('| **Ratio agent / ipmi_sim** | | **1.83×** |');
    expect(text).toContain('npm run bench');
  });

  it('says "not met" when the agent is slower or a case is below 20,000/s or failed', () => {
    const slower = renderReport({
      ...base,
      timings: [{ ...timing('agent', 3, [40]), serverCpuMsPerRun: 2 }, { ...timing('ipmi_sim', 3, [30]), serverCpuMsPerRun: 0.5 }],
      throughput: [rate(3, 19_999)],
    });
    expect(slower).toContain('ratio 1.33× — not met');
    expect(slower).toContain('The 10.0 ms are the server\'s: per invocation the agent used 2.00 ms of CPU against ipmi_sim\'s 0.50 ms, and it answers the 6 round trips of a short session in 1.10 ms against 0.60 ms (below).');
    expect(slower).toContain('lowest 19,999 req/s — not met');
    const failed = renderReport({ ...base, throughput: [rate(3, 30_000), rate(17, 0, false)] });
    expect(failed).toContain('— not met');
    expect(failed).toContain('failed: login failed');
  });

  it('explains what was skipped', () => {
    const text = renderReport({ ...base, timings: [], ipmitoolSkipped: 'ipmitool is not installed', throughput: [], throughputSkipped: 'time limit' });
    expect(text).toContain('Skipped: ipmitool is not installed.');
    expect(text).toContain('not measured (ipmitool is not installed)');
    expect(text).toContain('Skipped: time limit.');
  });
});

describe('bench options', () => {
  it('has bounded defaults and checks every number', () => {
    expect(parseOptions([])).toEqual(DEFAULT_OPTIONS);
    expect(parseOptions(['--runs', '5', '--requests', '100', '--window', '32', '--sessions', '7', '--repeat', '2', '--no-write', '--profile'])).toEqual({ ...DEFAULT_OPTIONS, runs: 5, requests: 100, window: 32, sessions: 7, repeat: 2, write: false, profile: true });
    expect(() => parseOptions(['--window', '33'])).toThrow('--window needs a whole number from 1 to 32');
    expect(() => parseOptions(['--runs'])).toThrow('--runs');
    expect(() => parseOptions(['--fast'])).toThrow('unknown option --fast');
  });
});
