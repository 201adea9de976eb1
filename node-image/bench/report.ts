/** docs/benchmarks.md (and the bench's stdout) from the measurements. Pure. */
import type { IpmitoolTiming } from './ipmitool-timing';
import type { SessionTiming } from './session-timing';
import type { ThroughputResult } from './session-throughput';
import type { ProfileSummary, SelfTimeRow } from './cpu-profile';
import { formatCount, formatMs, formatRatio } from './stats';

const formatMs2 = (ms: number): string => (Number.isFinite(ms) ? `${ms.toFixed(2)} ms` : '–');
const cpuMs = (ms: number | undefined): string => (ms === undefined || !Number.isFinite(ms) ? '–' : `${ms.toFixed(2)} ms`);
const formatUs = (us: number | undefined): string => (us === undefined || !Number.isFinite(us) ? '–' : `${us.toFixed(1)} µs`);

export const RPS_TARGET = 20_000;

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly kernel: string;
  /** 1, 5 and 15 minute load averages when the bench started. */
  readonly loadAverage: readonly number[];
  readonly ipmitool?: string;
  readonly ipmiSim?: string;
}

export interface BenchSettings {
  readonly runs: number;
  readonly warmup: number;
  readonly requests: number;
  readonly window: number;
  readonly throughputWarmup: number;
  /** Throughput runs per case; the best is reported. */
  readonly repeat: number;
  readonly sessions: number;
  readonly sessionWarmup: number;
}

export interface ProfileSection {
  readonly reason: string;
  /** Which case was profiled, e.g. "suite 17, Get Device ID, 30,000 requests". */
  readonly workload: string;
  readonly requestsPerSecond?: number;
  readonly agent?: ProfileSummary;
  readonly client?: ProfileSummary;
  readonly notes: readonly string[];
}

export interface BenchReport {
  readonly date: Date;
  readonly durationS: number;
  /** 1, 5 and 15 minute load averages when the bench ended. */
  readonly loadAverageAtEnd?: readonly number[];
  readonly machine: MachineInfo;
  readonly settings: BenchSettings;
  /** Why the ipmitool part did not run, if it did not. */
  readonly ipmitoolSkipped?: string;
  /** Why ipmi_sim is absent from the ipmitool part, if it is. */
  readonly ipmiSimSkipped?: string;
  readonly timings: readonly IpmitoolTiming[];
  /** Short sessions with the project's client, per server. */
  readonly sessionTimings: readonly SessionTiming[];
  /** The suite ipmitool chose on our agent without -C. */
  readonly negotiatedSuite?: number;
  readonly throughput: readonly ThroughputResult[];
  readonly throughputSkipped?: string;
  readonly profile?: ProfileSection;
}

export const REPRODUCE = [
  'bash scripts/setup.sh        # installs ipmitool and openipmi (ipmi_sim), among others',
  'npm run bench                # builds the agent, measures, rewrites docs/benchmarks.md',
  'npm run bench -- --runs 50 --requests 20000 --no-write   # a quicker look, nothing written',
];

export const OPTIONS_HELP = [
  '--runs N          ipmitool invocations per row (default 200), after --warmup N (default 10)',
  '--requests N      in-session requests per case (default 100000)',
  '--window N        requests in flight at once, 1..32 (default 16)',
  '--repeat N        runs per throughput case, the best one reported (default 3)',
  '--sessions N      short sessions per server with the project\'s client (default 500)',
  '--profile         always profile (otherwise only when a case is below the target)',
  '--farm-bmcs N     BMCs of the farm part (default 10000; 0 skips it)',
  '--farm-large N    also N BMCs spread over the farm\'s worker processes (default 0: skipped)',
  '--farm-only       run only the farm part and replace only its section of docs/benchmarks.md',
  '--no-write        print only; leave docs/benchmarks.md alone',
  '--max-seconds N   stop measuring after N seconds (default 900); what was measured is reported',
];

function timingFor(timings: readonly IpmitoolTiming[], server: string, suite: number | undefined): IpmitoolTiming | undefined {
  return timings.find((t) => t.target.server === server && t.target.suite === suite);
}

function selfTimeTable(title: string, rows: readonly SelfTimeRow[]): string[] {
  return [
    `| ${title} | self time | share of busy time |`,
    '|---|---|---|',
    ...rows.map((r) => `| \`${r.name.replace(/\|/g, '\\|')}\` | ${formatMs(r.selfMs)} | ${r.percent.toFixed(1)} % |`),
  ];
}

function profileLines(side: string, p: ProfileSummary): string[] {
  return [
    `**${side}**: ${formatMs(p.busyMs)} busy of ${formatMs(p.totalMs)} sampled (${formatMs(p.idleMs)} idle).`,
    '',
    ...selfTimeTable('File', p.files),
    '',
    ...selfTimeTable('Function', p.functions),
    '',
  ];
}

export function renderReport(r: BenchReport): string {
  const out: string[] = [];
  const line = (s = ''): void => { out.push(s); };
  const m = r.machine;
  const s = r.settings;
  line('# Benchmarks');
  line();
  line(`Written by \`npm run bench\` (node-image/bench/run-bench.ts) on ${r.date.toISOString()}, in ${Math.round(r.durationS)} s.`);
  line('Everything runs on 127.0.0.1. The machines are shared and noisy: compare the ratios measured in');
  line('one run (the servers are measured interleaved) rather than absolute numbers across runs.');
  line();
  line('## Machine');
  line();
  line('| | |');
  line('|---|---|');
  line(`| CPU | ${m.cpu} |`);
  line(`| Cores | ${m.cores} |`);
  line(`| Node.js | ${m.node} |`);
  line(`| Kernel | ${m.kernel} |`);
  line(`| Load average at start (1/5/15 min) | ${m.loadAverage.map((x) => x.toFixed(2)).join(' / ')} |`);
  if (r.loadAverageAtEnd) line(`| Load average at the end | ${r.loadAverageAtEnd.map((x) => x.toFixed(2)).join(' / ')} |`);
  line(`| ipmitool | ${m.ipmitool ?? 'not installed'} |`);
  line(`| ipmi_sim | ${m.ipmiSim ?? 'not installed'} |`);
  line();

  // ---- targets
  const oursC3 = timingFor(r.timings, 'agent', 3);
  const simC3 = timingFor(r.timings, 'ipmi_sim', 3);
  const oursNoC = timingFor(r.timings, 'agent', undefined);
  line('## Targets');
  line();
  if (oursC3 && simC3 && oursC3.summary.count > 0 && simC3.summary.count > 0) {
    const ratio = oursC3.summary.median / simC3.summary.median;
    line(`- **Our agent no slower than ipmi_sim** (median wall time of \`ipmitool -C 3 power status\`): ${formatMs(oursC3.summary.median)} against ${formatMs(simC3.summary.median)}, ratio ${formatRatio(oursC3.summary.median, simC3.summary.median)} — ${ratio <= 1 ? 'met' : 'not met'}.`);
    const oursSession = r.sessionTimings.find((t) => t.target.server === 'agent');
    const simSession = r.sessionTimings.find((t) => t.target.server === 'ipmi_sim');
    if (ratio > 1 && oursC3.serverCpuMsPerRun !== undefined && simC3.serverCpuMsPerRun !== undefined) {
      line(`  The ${formatMs(oursC3.summary.median - simC3.summary.median)} are the server's: per invocation the agent used ${cpuMs(oursC3.serverCpuMsPerRun)} of CPU against ipmi_sim's ${cpuMs(simC3.serverCpuMsPerRun)}${oursSession && simSession ? `, and it answers the 6 round trips of a short session in ${formatMs2(oursSession.summary.median)} against ${formatMs2(simSession.summary.median)} (below)` : ''}.`);
    }
  } else {
    line(`- **Our agent no slower than ipmi_sim**: not measured (${r.ipmitoolSkipped ?? r.ipmiSimSkipped ?? 'no successful runs'}).`);
  }
  if (r.throughput.length > 0) {
    const measured = r.throughput.filter((t) => t.ok);
    const lowest = measured.length ? Math.min(...measured.map((t) => t.requestsPerSecond)) : NaN;
    const met = measured.length === r.throughput.length && lowest >= RPS_TARGET;
    line(`- **At least ${formatCount(RPS_TARGET)} in-session requests per second** (every case below): lowest ${formatCount(lowest)} req/s — ${met ? 'met' : 'not met'}.`);
  } else {
    line(`- **At least ${formatCount(RPS_TARGET)} in-session requests per second**: not measured (${r.throughputSkipped ?? 'no cases ran'}).`);
  }
  line();

  // ---- ipmitool
  line('## `ipmitool power status`, wall time per command');
  line();
  if (r.ipmitoolSkipped) {
    line(`Skipped: ${r.ipmitoolSkipped}.`);
  } else {
    line(`\`ipmitool -I lanplus -H 127.0.0.1 -p PORT -U admin -P password [-C 3] power status\`, ${s.runs} runs per row after`);
    line(`${s.warmup} warm-up runs, the rows interleaved. Wall time is from starting the ipmitool process to its exit:`);
    line('discovery, RMCP+ handshake, Set Session Privilege Level, ipmitool\'s OEM probes, the command and');
    line('Close Session. The agent is `node node-image/dist/main.js` with MACHINE=sim; ipmi_sim is OpenIPMI\'s');
    line('simulator with a generated lan.conf (user 2 admin/password, Administrator).');
    line();
    line('| Server | Cipher suite | Runs ok | Median | p90 | Min | Max | Server CPU per run |');
    line('|---|---|---|---|---|---|---|---|');
    for (const t of r.timings) {
      const suite = t.target.suite === undefined ? `none given${r.negotiatedSuite !== undefined && t.target.server === 'agent' ? ` (ipmitool chose ${r.negotiatedSuite})` : ''}` : `-C ${t.target.suite}`;
      const sm = t.summary;
      line(`| ${t.target.label} | ${suite} | ${sm.count} / ${t.attempted} | ${formatMs(sm.median)} | ${formatMs(sm.p90)} | ${formatMs(sm.min)} | ${formatMs(sm.max)} | ${cpuMs(t.serverCpuMsPerRun)} |`);
    }
    if (oursC3 && simC3) {
      line(`| **Ratio agent / ipmi_sim**, -C 3 | | | **${formatRatio(oursC3.summary.median, simC3.summary.median)}** | **${formatRatio(oursC3.summary.p90, simC3.summary.p90)}** | ${formatRatio(oursC3.summary.min, simC3.summary.min)} | ${formatRatio(oursC3.summary.max, simC3.summary.max)} | ${formatRatio(oursC3.serverCpuMsPerRun ?? NaN, simC3.serverCpuMsPerRun ?? NaN)} |`);
    }
    if (oursC3 && oursNoC) {
      line(`| Ratio agent without -C / agent -C 3 | | | ${formatRatio(oursNoC.summary.median, oursC3.summary.median)} | ${formatRatio(oursNoC.summary.p90, oursC3.summary.p90)} | | | |`);
    }
    line();
    line('Server CPU per run: CPU time (all threads, user and system) the server process used during each');
    line('invocation, averaged; most of the wall time is ipmitool\'s own (process start, its crypto, its waits).');
    line();
    for (const t of r.timings) {
      if (t.failures > 0) line(`- ${t.target.label}${t.target.suite === undefined ? '' : ` -C ${t.target.suite}`}: ${t.failures} failed runs; first: ${t.firstFailure ?? '?'}`);
    }
    if (r.ipmiSimSkipped) line(`- ipmi_sim rows missing: ${r.ipmiSimSkipped}.`);
    line('- Without `-C`, ipmitool 1.8.19 first asks Get Channel Cipher Suites and takes the best suite listed:');
    line('  17 on the agent. ipmi_sim cannot be measured that way: it implements suites 0–14 only (no');
    line('  SHA-256, so `-C 17` fails) and does not answer Get Channel Cipher Suites, so ipmitool waits about');
    line('  10 s before falling back to suite 3.');
  }
  line();

  // ---- short sessions
  line('## Short sessions with the project\'s client');
  line();
  line(`Open Session, RAKP 1–4, Set Session Privilege Level, Get Chassis Status and Close Session (6 round trips, suite 3)`);
  line(`with IpmiClient from the bench process, ${s.sessions} per server after ${s.sessionWarmup} warm-up sessions, interleaved. No client`);
  line('process start and no OEM probes: the difference between the rows is the servers\' own response time.');
  line();
  line('| Server | Sessions ok | Median | p90 | Min | Max | Server CPU per session |');
  line('|---|---|---|---|---|---|---|');
  for (const t of r.sessionTimings) {
    const sm = t.summary;
    line(`| ${t.target.label} | ${sm.count} / ${t.attempted} | ${formatMs2(sm.median)} | ${formatMs2(sm.p90)} | ${formatMs2(sm.min)} | ${formatMs2(sm.max)} | ${cpuMs(t.serverCpuMsPerSession)} |`);
  }
  const oursS = r.sessionTimings.find((t) => t.target.server === 'agent');
  const simS = r.sessionTimings.find((t) => t.target.server === 'ipmi_sim');
  if (oursS && simS) {
    line(`| **Ratio agent / ipmi_sim** | | **${formatRatio(oursS.summary.median, simS.summary.median)}** | ${formatRatio(oursS.summary.p90, simS.summary.p90)} | ${formatRatio(oursS.summary.min, simS.summary.min)} | ${formatRatio(oursS.summary.max, simS.summary.max)} | ${formatRatio(oursS.serverCpuMsPerSession ?? NaN, simS.serverCpuMsPerSession ?? NaN)} |`);
  }
  line();
  for (const t of r.sessionTimings) if (t.failures > 0) line(`- ${t.target.label}: ${t.failures} failed sessions; first: ${t.firstFailure ?? '?'}`);
  if (r.sessionTimings.some((t) => t.failures > 0)) line();

  // ---- throughput
  line('## In-session requests per second');
  line();
  if (r.throughputSkipped) {
    line(`Skipped: ${r.throughputSkipped}.`);
  } else {
    line(`The project's client (IpmiClient.requestMany, node-image/src/client) in one RMCP+ session with the agent,`);
    line(`${formatCount(s.requests)} identical requests per run after ${formatCount(s.throughputWarmup)} warm-up requests, at most ${s.window} in flight, each case run`);
    line(`${s.repeat} time${s.repeat === 1 ? '' : 's'} in a fresh session: the table shows the fastest run (what the agent can do) and every run's rate`);
    line('(how much the machine\'s other load took).');
    line('Client and agent are separate Node.js processes; each encrypts, authenticates and checks every');
    line('packet (suite 3: HMAC-SHA1-96 + AES-CBC-128; suite 17: HMAC-SHA256-128 + AES-CBC-128).');
    line();
    line('| Suite | Command | Requests | Window | Elapsed | Requests/s | All runs | Latency p50 | Latency p99 | Retransmits | Agent CPU / request | Client CPU / request | ≥ 20,000/s |');
    line('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const t of r.throughput) {
      const c = t.case;
      const verdict = !t.ok ? `failed: ${t.error ?? '?'}` : t.requestsPerSecond >= RPS_TARGET ? 'yes' : 'no';
      line(`| ${c.suite} | ${c.command.name} | ${formatCount(t.completed)} | ${c.window} | ${formatMs(t.elapsedMs)} | **${formatCount(t.requestsPerSecond)}** | ${(t.repetitions ?? [t.requestsPerSecond]).map(formatCount).join(', ')} | ${formatMs(t.latencyMs?.p50 ?? NaN)} | ${formatMs(t.latencyMs?.p99 ?? NaN)} | ${t.retransmits} | ${formatUs(t.agentCpuUsPerRequest)} | ${formatUs(t.clientCpuUsPerRequest)} | ${verdict} |`);
    }
    const agentCpu = r.throughput.map((t) => t.agentCpuUsPerRequest).filter((x): x is number => x !== undefined && x > 0);
    if (agentCpu.length > 0) {
      const worst = Math.max(...agentCpu);
      line();
      line(`CPU time per request (user + system, all threads, including the kernel's UDP work) depends much less on what else`);
      line(`the machine runs than requests per second do. At ${worst.toFixed(1)} µs per request in its most expensive case, one core`);
      line(`fully given to the agent would serve about ${formatCount(1e6 / worst)} requests per second; the client needs a core of its own`);
      line('as well, so on this 2-core machine both compete with each other and with any other load.');
    }
  }
  line();

  // ---- profile
  if (r.profile) {
    const p = r.profile;
    line('## Where the time goes');
    line();
    line(`Profiled because ${p.reason}: ${p.workload}${p.requestsPerSecond ? `, ${formatCount(p.requestsPerSecond)} req/s while profiling` : ''}.`);
    line('Agent: `node --cpu-prof` on a second agent process; client: the inspector\'s profiler in the bench process.');
    line('Self time, i.e. time spent in the function itself, not in what it calls. The profiler samples the main');
    line('thread\'s wall clock: when sending a datagram wakes the other process on the same core and the sender is');
    line('preempted inside sendmsg, that time shows up in `doSend` / `send`, so their share overstates CPU use');
    line('(the CPU-per-request columns above are the CPU truth).');
    line();
    if (p.agent) out.push(...profileLines('Agent', p.agent));
    if (p.client) out.push(...profileLines('Client', p.client));
    for (const n of p.notes) line(`- ${n}`);
    if (p.notes.length) line();
  }

  // ---- reproduce
  line('## Reproduce');
  line();
  line('```');
  for (const l of REPRODUCE) line(l);
  line('```');
  line();
  line('Options (after `npm run bench --`):');
  line();
  line('```');
  for (const l of OPTIONS_HELP) line(l);
  line('```');
  line();
  line('The IPMI parts install nothing: without ipmitool or ipmi_sim the bench says so and skips what needs them.');
  line('They start every server on a free 127.0.0.1 UDP port with a temporary state directory and stop');
  line('them (and remove the directories) when the bench ends, also on failure or Ctrl-C.');
  line();
  return out.join('\n');
}
