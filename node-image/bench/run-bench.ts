/**
 * `npm run bench`: the agent against OpenIPMI's ipmi_sim with real ipmitool invocations, and the
 * agent's in-session request rate with the project's own client. Writes docs/benchmarks.md and
 * prints the same report on stdout (progress goes to stderr).
 *
 * Everything is on 127.0.0.1, bounded in count and in time (--max-seconds, a hard limit per
 * ipmitool run and per throughput case), and every process the bench starts is stopped when it
 * ends, also on failure or a signal. It installs nothing: a missing ipmitool or ipmi_sim is
 * reported and the parts needing it are skipped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join, resolve } from 'node:path';
import { cleanupOnExit, findExecutable, ProcessGroup, runCommand } from './processes';
import { RunningServer, startAgent, startIpmiSim } from './servers';
import { IpmitoolTarget, ipmitoolVersion, negotiatedSuite, timeIpmitool } from './ipmitool-timing';
import { SessionTarget, SessionTiming, timeSessions } from './session-timing';
import { measureThroughput, measureThroughputBest, THROUGHPUT_COMMANDS, ThroughputCase, ThroughputResult } from './session-throughput';
import { profileThisProcess, readProfileDir, summarizeProfile, ProfileSummary } from './cpu-profile';
import { BenchReport, BenchSettings, MachineInfo, OPTIONS_HELP, ProfileSection, renderReport, RPS_TARGET } from './report';
import { MAX_IN_FLIGHT } from '../src/client/ipmi-client';
import { formatCount } from './stats';
import { DEFAULT_BOOT_RUNS, NODE_RUNTIME_OPTIONS_HELP, runNodeRuntimeBench } from './node-runtime';
import { insertBeforeReproduce, renderNodeRuntime } from './node-runtime-report';
import { DEFAULT_FLEET_RUNS, FLEET_OPTIONS_HELP, runFleetBench } from './fleet-bench';
import { renderFleet } from './fleet-report';
import { PAGE_ROWS, renderPages, runPagesBench } from './fleet-pages-bench';
import { DEFAULT_WEB_UI_RUNS, runWebUiBench, WEB_UI_OPTIONS_HELP } from './web-ui-bench';
import { renderWebUi, replaceWebUiSection } from './web-ui-report';
import { DEFAULT_VMEDIA_RUNS, renderVirtualMedia, replaceVirtualMediaSection, runVirtualMediaBench, VIRTUAL_MEDIA_OPTIONS_HELP } from './virtual-media-bench';
import { runRedfishBench } from './redfish-bench';
import { renderRedfish, replaceRedfishSection } from './redfish-bench-report';

const REDFISH_OPTIONS_HELP = [
  '--redfish-requests N  GET /redfish/v1/Systems/1 per run of the Redfish part (default 20000; runs: --repeat); 0 skips it',
  '--sushy-runs N    sushy login + GET System + Reset sequences (default 20)',
  '--only-redfish     measure only the Redfish part; rewrite only its section of docs/benchmarks.md',
];
import { runFarmBench } from './farm-bench';
import { DEFAULT_SWARM_RUNS, renderSwarm, replaceSwarmSection, SWARM_OPTIONS_HELP, type SwarmBenchModule } from './swarm-bench-report';
import { renderFarm, replaceFarmSection } from './farm-report';
import { simFleetSection } from './sim-fleet-bench';
import { DEFAULT_SIM_NODES, replaceSimFleetSection, SIM_FLEET_OPTIONS_HELP } from './sim-fleet-report';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const AGENT_MAIN = resolve(__dirname, '..', '..', 'dist', 'main.js');
const FARM_MAIN = resolve(__dirname, '..', '..', 'dist', 'farm', 'farm-main.js');
/** The agent as the node image ships it (one bundled file, npm run bundle:agent): what node memory is measured on. */
const AGENT_BUNDLE = resolve(__dirname, '..', '..', 'bundle', 'main.js');
const REPORT_PATH = join(REPO_ROOT, 'docs', 'benchmarks.md');
const THROUGHPUT_SUITES = [3, 17] as const;
const IPMITOOL_RUN_TIMEOUT_MS = 20_000;
const THROUGHPUT_WARMUP = 2_000;
/** Per case: generous (100,000 requests at 1,000/s), the case fails rather than hanging. */
const THROUGHPUT_TIMEOUT_MS = 120_000;
const PROFILE_REQUESTS = 30_000;
const SESSION_WARMUP = 50;

export interface BenchOptions {
  readonly runs: number;
  readonly warmup: number;
  readonly requests: number;
  readonly window: number;
  readonly sessions: number;
  readonly repeat: number;
  readonly profile: boolean;
  readonly write: boolean;
  readonly maxSeconds: number;
  /** Power-ons per side in the node-runtime part (node-runtime.ts); 0 skips that part. */
  readonly bootRuns: number;
  /** Repetitions per side of the 50-node part (fleet-bench.ts); 0 skips it. */
  readonly fleetRuns: number;
  /** Page loads in the web UI part (web-ui-bench.ts); 0 skips it. */
  readonly webUiRuns: number;
  /** Only the web UI part, replacing its section of the existing report. */
  readonly onlyWebUi: boolean;
  /** InsertMedia calls per image size in the virtual-media part (virtual-media-bench.ts); 0 skips it. */
  readonly vmediaRuns: number;
  /** Measure only the virtual-media part and rewrite only its section of docs/benchmarks.md. */
  readonly onlyVmedia: boolean;
  /** Requests per run of the Redfish part (redfish-bench.ts); 0 skips it. */
  readonly redfishRequests: number;
  /** sushy sequences in the Redfish part. */
  readonly sushyRuns: number;
  /** Measure only the Redfish part and rewrite only its section of docs/benchmarks.md. */
  readonly onlyRedfish: boolean;
  /** BMCs of the farm part (farm-bench.ts); 0 skips it. */
  readonly farmBmcs: number;
  /** BMCs of the farm spread over worker processes; 0 (default) skips it. */
  readonly farmLarge: number;
  /** Runs the farm part alone and replaces only its section of docs/benchmarks.md. */
  readonly farmOnly: boolean;
  /** Rounds per side of the Swarm part (swarm-bench.ts); 0 skips it. */
  readonly swarmRuns: number;
  /** Measure only the Swarm part and rewrite only its section of docs/benchmarks.md. */
  readonly onlySwarm: boolean;
  /** Sim nodes of the sim-fleet part (sim-fleet-bench.ts); 0 skips it. */
  readonly simNodes: number;
  /** Measure only the sim-fleet part and rewrite only its section of docs/benchmarks.md. */
  readonly onlySimFleet: boolean;
}

export const DEFAULT_OPTIONS: BenchOptions = { runs: 200, warmup: 10, requests: 100_000, window: 16, sessions: 500, repeat: 3, profile: false, write: true, maxSeconds: 900, bootRuns: DEFAULT_BOOT_RUNS, fleetRuns: DEFAULT_FLEET_RUNS, vmediaRuns: DEFAULT_VMEDIA_RUNS, webUiRuns: DEFAULT_WEB_UI_RUNS, onlyWebUi: false, onlyVmedia: false, redfishRequests: 20_000, sushyRuns: 20, onlyRedfish: false, farmBmcs: 10_000, farmLarge: 0, farmOnly: false, swarmRuns: DEFAULT_SWARM_RUNS, onlySwarm: false, simNodes: DEFAULT_SIM_NODES, onlySimFleet: false };

export function parseOptions(argv: readonly string[]): BenchOptions {
  const o = { ...DEFAULT_OPTIONS };
  const num = (flag: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} needs a whole number from ${min} to ${max}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--runs': o.runs = num(a, argv[++i], 1, 10_000); break;
      case '--warmup': o.warmup = num(a, argv[++i], 0, 1_000); break;
      case '--requests': o.requests = num(a, argv[++i], 1, 10_000_000); break;
      case '--window': o.window = num(a, argv[++i], 1, MAX_IN_FLIGHT); break;
      case '--sessions': o.sessions = num(a, argv[++i], 1, 100_000); break;
      case '--repeat': o.repeat = num(a, argv[++i], 1, 20); break;
      case '--max-seconds': o.maxSeconds = num(a, argv[++i], 10, 86_400); break;
      case '--boot-runs': o.bootRuns = num(a, argv[++i], 0, 100); break;
      case '--fleet-runs': o.fleetRuns = num(a, argv[++i], 0, 20); break;
      case '--web-ui-runs': o.webUiRuns = num(a, argv[++i], 0, 100); break;
      case '--only-web-ui': o.onlyWebUi = true; break;
      case '--vmedia-runs': o.vmediaRuns = num(a, argv[++i], 0, 1_000); break;
      case '--only-vmedia': o.onlyVmedia = true; break;
      case '--redfish-requests': o.redfishRequests = num(a, argv[++i], 0, 1_000_000); break;
      case '--sushy-runs': o.sushyRuns = num(a, argv[++i], 0, 1_000); break;
      case '--only-redfish': o.onlyRedfish = true; break;
      case '--profile': o.profile = true; break;
      case '--farm-bmcs': o.farmBmcs = num(a, argv[++i], 0, 60_000); break;
      case '--farm-large': o.farmLarge = num(a, argv[++i], 0, 1_000_000); break;
      case '--farm-only': o.farmOnly = true; break;
      case '--swarm-runs': o.swarmRuns = num(a, argv[++i], 0, 20); break;
      case '--only-swarm': o.onlySwarm = true; break;
      case '--sim-nodes': o.simNodes = num(a, argv[++i], 0, 10_000); break;
      case '--only-sim-fleet': o.onlySimFleet = true; break;
      case '--no-write': o.write = false; break;
      case '--help': case '-h':
        process.stdout.write(`npm run bench -- [options]\n${[...OPTIONS_HELP, ...NODE_RUNTIME_OPTIONS_HELP, ...FLEET_OPTIONS_HELP, ...VIRTUAL_MEDIA_OPTIONS_HELP, '--only-vmedia      measure only the virtual-media part; rewrite only its section of docs/benchmarks.md', ...REDFISH_OPTIONS_HELP, ...WEB_UI_OPTIONS_HELP, ...SWARM_OPTIONS_HELP, ...SIM_FLEET_OPTIONS_HELP].map((l) => `  ${l}`).join('\n')}\n`);
        process.exit(0);
        break;
      default: throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  return o;
}

const progress = (msg: string): void => { process.stderr.write(`bench: ${msg}\n`); };

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

function debianVersion(pkg: string): string | undefined {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function ipmiSimVersion(group: ProcessGroup, ipmiSim: string): Promise<string> {
  // ipmi_sim prints its version after complaining about the default configuration file.
  const r = await runCommand(group, ipmiSim, ['-v', '-n'], 5_000);
  const own = /IPMI Simulator version \S+/.exec(r.stdout + r.stderr)?.[0];
  const pkg = debianVersion('openipmi');
  return [pkg && `OpenIPMI ${pkg} (Debian package openipmi)`, own].filter(Boolean).join(', ') || 'unknown';
}

function percentOf(p: ProfileSummary | undefined, match: (name: string) => boolean): number {
  if (!p) return NaN;
  // The file table is cut to the top rows; the share of what matches among them is a lower bound.
  return p.files.filter((f) => match(f.name)).reduce((a, f) => a + f.percent, 0);
}

async function profileCase(group: ProcessGroup, c: ThroughputCase, reason: string): Promise<ProfileSection> {
  const dir = group.tempDir('bmcfleet-bench-profile-');
  const notes: string[] = [];
  let agent: RunningServer | undefined;
  let result: ThroughputResult | undefined;
  let clientSummary: ProfileSummary | undefined;
  let agentSummary: ProfileSummary | undefined;
  try {
    agent = await startAgent(group, { agentMain: AGENT_MAIN, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    const profiled = await profileThisProcess(() => measureThroughput(agent!.port, c));
    result = profiled.result;
    clientSummary = summarizeProfile(profiled.profile, { repoRoot: REPO_ROOT });
  } finally {
    // The agent writes its profile when it exits (SIGTERM → clean stop → exit).
    if (agent) await agent.stop();
  }
  const agentProfile = readProfileDir(dir);
  group.removeDir(dir);
  if (agentProfile) agentSummary = summarizeProfile(agentProfile, { repoRoot: REPO_ROOT });
  else notes.push('The agent wrote no CPU profile (it did not exit cleanly).');
  if (result && !result.ok) notes.push(`The profiled run failed: ${result.error ?? '?'}.`);
  const isCrypto = (n: string): boolean => /crypto/i.test(n);
  for (const [side, p] of [['agent', agentSummary], ['client', clientSummary]] as const) {
    if (!p) continue;
    notes.push(`${side}: node:crypto code ${percentOf(p, isCrypto).toFixed(0)} %, garbage collection ${percentOf(p, (n) => n === '(garbage collector)').toFixed(0)} %, of busy time (files in the table above).`);
  }
  return {
    reason,
    workload: `suite ${c.suite}, ${c.command.name}, ${formatCount(c.count)} requests, window ${c.window}`,
    ...(result?.ok ? { requestsPerSecond: result.requestsPerSecond } : {}),
    ...(agentSummary ? { agent: agentSummary } : {}),
    ...(clientSummary ? { client: clientSummary } : {}),
    notes,
  };
}

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const started = Date.now();
  const deadline = started + o.maxSeconds * 1000;
  const group = new ProcessGroup();
  const uninstall = cleanupOnExit(group);
  try {
    const ipmitool = findExecutable('ipmitool');
    const ipmiSim = findExecutable('ipmi_sim');
    const machine: MachineInfo = {
      cpu: cpuModel(),
      cores: cpus().length,
      node: process.version,
      kernel: `Linux ${release()}`,
      loadAverage: loadavg(),
      ...(ipmitool ? { ipmitool: [await ipmitoolVersion(group, ipmitool), debianVersion('ipmitool') && `(Debian ${debianVersion('ipmitool')})`].filter(Boolean).join(' ') } : {}),
      ...(ipmiSim ? { ipmiSim: await ipmiSimVersion(group, ipmiSim) } : {}),
    };
    const settings: BenchSettings = { runs: o.runs, warmup: o.warmup, requests: o.requests, window: o.window, throughputWarmup: THROUGHPUT_WARMUP, repeat: o.repeat, sessions: o.sessions, sessionWarmup: SESSION_WARMUP };
    progress(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage.map((x) => x.toFixed(2)).join('/')}`);

    progress('starting the agent');
    const agent = await startAgent(group, { agentMain: AGENT_MAIN });
    let sim: RunningServer | undefined;
    let ipmitoolSkipped: string | undefined;
    let ipmiSimSkipped: string | undefined;
    if (!ipmitool) ipmitoolSkipped = 'ipmitool is not installed (bash scripts/setup.sh installs it)';
    if (!ipmiSim) ipmiSimSkipped = 'ipmi_sim is not installed (Debian package openipmi; bash scripts/setup.sh installs it)';
    if (ipmitool && ipmiSim) {
      progress('starting ipmi_sim');
      try {
        sim = await startIpmiSim(group, ipmiSim);
      } catch (err) {
        ipmiSimSkipped = (err as Error).message.split('\n')[0]!;
      }
    }

    let timings: BenchReport['timings'] = [];
    let suite: number | undefined;
    if (ipmitool) {
      const pid = (s: RunningServer): { serverPid?: number } => (s.process.pid === undefined ? {} : { serverPid: s.process.pid });
      const targets: IpmitoolTarget[] = [
        { label: 'bmcfleet agent', server: 'agent', port: agent.port, suite: 3, ...pid(agent) },
        ...(sim ? [{ label: 'ipmi_sim', server: 'ipmi_sim', port: sim.port, suite: 3, ...pid(sim) }] : []),
        { label: 'bmcfleet agent', server: 'agent', port: agent.port, ...pid(agent) },
      ];
      suite = await negotiatedSuite(group, ipmitool, agent.port, IPMITOOL_RUN_TIMEOUT_MS);
      progress(`ipmitool: ${o.runs} runs x ${targets.length} rows after ${o.warmup} warm-up runs (ipmitool without -C chose suite ${suite ?? '?'})`);
      timings = await timeIpmitool(group, targets, { ipmitool, runs: o.runs, warmup: o.warmup, perRunTimeoutMs: IPMITOOL_RUN_TIMEOUT_MS, deadline });
      for (const t of timings) progress(`  ${t.target.label} ${t.target.suite === undefined ? 'no -C' : `-C ${t.target.suite}`}: median ${t.summary.median.toFixed(1)} ms, p90 ${t.summary.p90.toFixed(1)} ms, server CPU ${t.serverCpuMsPerRun?.toFixed(2) ?? '?'} ms per run, ${t.failures} failed`);
    }

    const sessionTargets: SessionTarget[] = [
      { label: 'bmcfleet agent', server: 'agent', port: agent.port, ...(agent.process.pid === undefined ? {} : { serverPid: agent.process.pid }) },
      ...(sim ? [{ label: 'ipmi_sim', server: 'ipmi_sim', port: sim.port, ...(sim.process.pid === undefined ? {} : { serverPid: sim.process.pid }) }] : []),
    ];
    progress(`short sessions with the project's client: ${o.sessions} per server after ${SESSION_WARMUP} warm-up sessions`);
    const sessionTimings: SessionTiming[] = await timeSessions(sessionTargets, { count: o.sessions, warmup: SESSION_WARMUP, deadline });
    for (const t of sessionTimings) progress(`  ${t.target.label}: median ${t.summary.median.toFixed(2)} ms, p90 ${t.summary.p90.toFixed(2)} ms, server CPU ${t.serverCpuMsPerSession?.toFixed(2) ?? '?'} ms per session, ${t.failures} failed`);
    if (sim) await sim.stop();

    const throughput: ThroughputResult[] = [];
    let throughputSkipped: string | undefined;
    for (const s of THROUGHPUT_SUITES) {
      for (const command of THROUGHPUT_COMMANDS) {
        if (Date.now() > deadline) { throughputSkipped = `--max-seconds ${o.maxSeconds} reached`; break; }
        const c: ThroughputCase = {
          suite: s, command, count: o.requests, window: o.window, warmup: THROUGHPUT_WARMUP, timeoutMs: THROUGHPUT_TIMEOUT_MS,
          ...(agent.process.pid !== undefined ? { agentPid: agent.process.pid } : {}),
        };
        progress(`throughput: suite ${s}, ${command.name}, ${formatCount(o.requests)} requests, window ${o.window}, best of ${o.repeat}`);
        const r = await measureThroughputBest(agent.port, c, o.repeat);
        progress(`  ${r.ok ? `${formatCount(r.requestsPerSecond)} req/s (runs: ${(r.repetitions ?? []).map(formatCount).join(', ')}); CPU per request: agent ${r.agentCpuUsPerRequest?.toFixed(1) ?? '?'} µs, client ${r.clientCpuUsPerRequest?.toFixed(1) ?? '?'} µs` : `failed: ${r.error}`}`);
        throughput.push(r);
      }
    }
    await agent.stop();

    let profile: ProfileSection | undefined;
    const slowest = [...throughput].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[0];
    const below = throughput.some((t) => !t.ok || t.requestsPerSecond < RPS_TARGET);
    if (slowest && (o.profile || below) && Date.now() < deadline) {
      const reason = o.profile ? 'the bench was asked to (--profile)' : `a case was below ${formatCount(RPS_TARGET)} req/s`;
      const { agentPid: _measuredAgent, ...slowestCase } = slowest.case;
      const c: ThroughputCase = { ...slowestCase, count: Math.min(o.requests, PROFILE_REQUESTS) };
      progress(`profiling ${c.command.name}, suite ${c.suite}: ${reason}`);
      profile = await profileCase(group, c, reason);
    }

    return {
      date: new Date(started),
      loadAverageAtEnd: loadavg(),
      durationS: (Date.now() - started) / 1000,
      machine,
      settings,
      ...(ipmitoolSkipped ? { ipmitoolSkipped } : {}),
      ...(ipmiSimSkipped ? { ipmiSimSkipped } : {}),
      timings,
      sessionTimings,
      ...(suite !== undefined ? { negotiatedSuite: suite } : {}),
      throughput,
      ...(throughputSkipped ? { throughputSkipped } : {}),
      ...(profile ? { profile } : {}),
    };
  } finally {
    await group.stopAll();
    uninstall();
  }
}

/** The Redfish part: measured with its own process group, rendered with its date and machine. */
async function redfishSection(o: BenchOptions): Promise<string> {
  const group = new ProcessGroup();
  const uninstall = cleanupOnExit(group);
  const started = Date.now();
  const load = loadavg().map((l) => l.toFixed(2)).join(' / ');
  progress(`redfish: GET /redfish/v1/Systems/1, ${formatCount(o.redfishRequests)} requests per run, agent and bare HTTPS server interleaved, ${o.repeat} runs each`);
  try {
    const r = await runRedfishBench(group, {
      agentMain: AGENT_MAIN, benchDir: __dirname, repoRoot: REPO_ROOT, requests: o.redfishRequests, repeat: o.repeat, connections: 4,
      sushyIterations: o.sushyRuns, progress,
    });
    const machine = `${cpuModel()}, ${cpus().length} cores, Node.js ${process.version}, Linux ${release()}, load average at start ${load}, at the end ${loadavg().map((l) => l.toFixed(2)).join(' / ')}`;
    return renderRedfish(r, { date: new Date(started).toISOString(), machine, seconds: Math.round((Date.now() - started) / 1000) });
  } finally {
    await group.stopAll();
    uninstall();
  }
}

/** The Swarm part: swarm-bench.ts as `npm run build:bench` bundles it (it reaches into src/ and test/support/). */
async function swarmSection(o: BenchOptions): Promise<string> {
  const started = Date.now();
  const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' / ');
  const atStart = load();
  const bench = require(join(__dirname, 'swarm-bench.js')) as SwarmBenchModule;
  const image = process.env['BMCFLEET_NODE_IMAGE'] ?? 'bmcfleet/node:latest';
  const r = await bench.runSwarmBench({ repoRoot: REPO_ROOT, image, runs: Math.max(1, o.swarmRuns), progress });
  const machine = `${cpuModel()}, ${cpus().length} cores, Node.js ${process.version}, Linux ${release()}, load average at start ${atStart}, at the end ${load()}`;
  return renderSwarm(r, { date: new Date(started).toISOString(), machine, seconds: Math.round((Date.now() - started) / 1000) });
}

/** The farm part (farm-bench.ts), rendered with the date and machine it ran on. */
async function farmSection(o: BenchOptions): Promise<string> {
  const group = new ProcessGroup();
  const uninstall = cleanupOnExit(group);
  try {
    const load = loadavg().map((x) => x.toFixed(2)).join(' / ');
    const measuredOn = `on ${new Date().toISOString()}, ${cpuModel()}, ${cpus().length} cores, Node ${process.version}, Linux ${release()}, load average at start ${load}`;
    const report = await runFarmBench(group, {
      bmcs: o.farmBmcs || 10_000, largeBmcs: o.farmLarge, ipmitoolRuns: Math.min(o.runs, 100), peerProcesses: 5,
      farmMain: FARM_MAIN, agentMain: AGENT_MAIN, progress,
    });
    return renderFarm(report, measuredOn);
  } finally {
    await group.stopAll();
    uninstall();
  }
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (options.farmOnly) {
    const text = replaceFarmSection(existsSync(REPORT_PATH) ? readFileSync(REPORT_PATH, 'utf8') : '# Benchmarks\n', await farmSection(options));
    if (options.write) { writeFileSync(REPORT_PATH, text); progress(`wrote the farm section of ${REPORT_PATH}`); }
    process.stdout.write(text);
    return;
  }
  if (options.onlyWebUi) {
    const section = renderWebUi(await runWebUiBench({ runs: options.webUiRuns, repoRoot: REPO_ROOT, farmMain: FARM_MAIN, progress }));
    if (options.write) {
      writeFileSync(REPORT_PATH, replaceWebUiSection(readFileSync(REPORT_PATH, 'utf8'), section, insertBeforeReproduce));
      progress(`wrote the web UI section of ${REPORT_PATH}`);
    }
    process.stdout.write(section);
    return;
  }
  if (options.onlyRedfish) {
    const text = replaceRedfishSection(readFileSync(REPORT_PATH, 'utf8'), await redfishSection(options));
    if (options.write) { writeFileSync(REPORT_PATH, text); progress(`wrote the Redfish section of ${REPORT_PATH}`); }
    process.stdout.write(text);
    return;
  }
  if (options.onlySimFleet) {
    const text = replaceSimFleetSection(readFileSync(REPORT_PATH, 'utf8'), await simFleetSection(options.simNodes || DEFAULT_SIM_NODES, REPO_ROOT, progress));
    if (options.write) { writeFileSync(REPORT_PATH, text); progress(`wrote the sim-fleet section of ${REPORT_PATH}`); }
    process.stdout.write(text);
    return;
  }
  if (options.onlySwarm) {
    const text = replaceSwarmSection(readFileSync(REPORT_PATH, 'utf8'), await swarmSection(options));
    if (options.write) { writeFileSync(REPORT_PATH, text); progress(`wrote the Swarm section of ${REPORT_PATH}`); }
    process.stdout.write(text);
    return;
  }
  const vmedia = (): Promise<string> => runVirtualMediaBench({ runs: options.vmediaRuns, agentMain: AGENT_MAIN, progress, deadline: Date.now() + options.maxSeconds * 1000 }).then(renderVirtualMedia);
  if (options.onlyVmedia) {
    const text = replaceVirtualMediaSection(readFileSync(REPORT_PATH, 'utf8'), await vmedia(), insertBeforeReproduce);
    if (options.write) { writeFileSync(REPORT_PATH, text); progress(`wrote ${REPORT_PATH}`); }
    process.stdout.write(text);
    return;
  }
  const report = await runBench(options);
  let text = renderReport(report);
  if (options.bootRuns > 0) {
    const nodeRuntime = await runNodeRuntimeBench({ runs: options.bootRuns, repoRoot: REPO_ROOT, agentMain: existsSync(AGENT_BUNDLE) ? AGENT_BUNDLE : AGENT_MAIN, progress, deadline: Date.now() + options.maxSeconds * 1000 });
    text = insertBeforeReproduce(text, renderNodeRuntime(nodeRuntime));
  }
  const fleet = await runFleetBench({ runs: options.fleetRuns, repoRoot: REPO_ROOT, progress, deadline: Date.now() + options.maxSeconds * 1000 });
  text = insertBeforeReproduce(text, renderFleet(fleet));
  text = insertBeforeReproduce(text, renderPages(await runPagesBench({ repoRoot: REPO_ROOT, rows: PAGE_ROWS, progress })));
  text = insertBeforeReproduce(text, await vmedia());
  if (options.redfishRequests > 0) text = replaceRedfishSection(text, await redfishSection(options));
  text = insertBeforeReproduce(text, renderWebUi(await runWebUiBench({ runs: options.webUiRuns, repoRoot: REPO_ROOT, farmMain: FARM_MAIN, progress })));
  if (options.farmBmcs > 0) text = replaceFarmSection(text, await farmSection(options));
  if (options.swarmRuns > 0) text = replaceSwarmSection(text, await swarmSection(options));
  if (options.simNodes > 0) text = replaceSimFleetSection(text, await simFleetSection(options.simNodes, REPO_ROOT, progress));
  if (options.write) {
    writeFileSync(REPORT_PATH, text);
    progress(`wrote ${REPORT_PATH}`);
  }
  process.stdout.write(text);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
