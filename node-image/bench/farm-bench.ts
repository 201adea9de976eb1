/**
 * The farm part of `npm run bench`: one farm of `bmcs` BMCs (default 10,000) on 127.90.0.1 onwards
 * — start time fresh and from saved state, RSS of the whole farm, idle CPU, a sweep of every BMC
 * with the project's client —; `ipmitool` against one agent and against a farm of one BMC,
 * interleaved; the memory one BMC costs in OpenIPMI's ipmi_sim and pyghmi's fakebmc run one process
 * per BMC; and, with --farm-large N, N BMCs spread over the farm's worker processes.
 */
import { loadavg } from 'node:os';
import { addIpv4 } from '../src/farm/address-plan';
import { findExecutable, freeUdpPort, waitForBmc, type ProcessGroup } from './processes';
import { startAgent, startIpmiSim, BENCH_PASSWORD, BENCH_USER } from './servers';
import { timeIpmitool, type IpmitoolTiming } from './ipmitool-timing';
import { sweep } from './farm-sweep';
import { rssKiB, startFarmProcess, treeCpuMs, treeRssKiB } from './farm-processes';

export interface FarmBenchOptions {
  readonly bmcs: number;
  readonly largeBmcs: number;
  readonly ipmitoolRuns: number;
  /** Processes of each peer BMC started to average their memory. */
  readonly peerProcesses: number;
  readonly farmMain: string;
  readonly agentMain: string;
  readonly progress: (msg: string) => void;
}

export interface SweepFigures {
  readonly attempted: number;
  readonly answered: number;
  readonly firstFailure?: string;
  readonly sessionsPerSecond: number;
  readonly concurrency: number;
  /**
   * CPU time (user + system) per swept session: of the farm's processes (/proc), and of the bench
   * process running the client (process.cpuUsage). Unlike sessions/s, these hardly move with the
   * load of other work on the machine.
   */
  readonly farmCpuUsPerSession: number;
  readonly clientCpuUsPerSession: number;
  /** 1-minute load average when the sweep started and when it ended. */
  readonly load: readonly [number, number];
}

export interface FarmRun {
  readonly bmcs: number;
  readonly workers: number;
  readonly firstStartMs: number;
  readonly restartMs?: number;
  readonly restoredState?: number;
  readonly rssKiB: number;
  readonly idleCpuPercent?: number;
  readonly sweep: SweepFigures;
  readonly rssAfterSweepKiB: number;
}

export interface PeerMemory {
  readonly name: string;
  readonly processes: number;
  /** Mean RSS of one process (one BMC), KiB. */
  readonly rssKiB?: number;
  readonly skipped?: string;
}

export interface FarmBenchReport {
  readonly farm?: FarmRun;
  readonly farmError?: string;
  /**
   * Interleaved ipmitool runs: one agent and a farm of one BMC without -C (discovery, then suite
   * 17), and OpenIPMI's ipmi_sim with -C 3 (it lists no cipher suites; without -C ipmitool waits).
   */
  readonly latency?: { readonly agent: IpmitoolTiming; readonly farmOfOne: IpmitoolTiming; readonly ipmiSim?: IpmitoolTiming };
  readonly latencySkipped?: string;
  readonly peers: PeerMemory[];
  readonly large?: FarmRun;
  readonly largeError?: string;
}

const SWEEP_CONCURRENCY = 64;
const IDLE_SETTLE_MS = 5_000;
const IDLE_WINDOW_MS = 10_000;

async function runFarm(group: ProcessGroup, o: FarmBenchOptions, bmcs: number, first: string, restart: boolean): Promise<FarmRun> {
  const stateDir = group.tempDir('bmcfleet-bench-farm-');
  const env = { FARM_BMCS: String(bmcs), FARM_ADDRESSES: first, BMC_STATE_DIR: stateDir };
  const timeoutMs = 60_000 + bmcs * 10;
  o.progress(`farm: starting ${bmcs} BMCs`);
  let farm = await startFarmProcess(group, o.farmMain, env, timeoutMs);
  const firstStartMs = farm.startMs;
  let restartMs: number | undefined;
  let restoredState: number | undefined;
  try {
    const idle = async (): Promise<{ idleCpuPercent: number; rss: number }> => {
      const pid = farm.process.pid!;
      await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
      const cpu0 = treeCpuMs(pid);
      await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
      return { idleCpuPercent: ((treeCpuMs(pid) - cpu0) / IDLE_WINDOW_MS) * 100, rss: treeRssKiB(pid) };
    };
    // Without a restart, idle figures come before the sweep; with one, from the restarted farm.
    const before = restart ? undefined : await idle();
    o.progress(`farm: sweeping ${bmcs} BMCs`);
    const loadBefore = loadavg()[0]!;
    const farmCpu0 = treeCpuMs(farm.process.pid!);
    const clientCpu0 = process.cpuUsage();
    const s = await sweep(Array.from({ length: bmcs }, (_, i) => ({ address: addIpv4(first, i), port: 623 })), { user: BENCH_USER, password: BENCH_PASSWORD, concurrency: SWEEP_CONCURRENCY });
    const clientCpu = process.cpuUsage(clientCpu0);
    const farmCpuUsPerSession = ((treeCpuMs(farm.process.pid!) - farmCpu0) * 1000) / s.attempted;
    const load: [number, number] = [loadBefore, loadavg()[0]!];
    o.progress(`farm: ${s.answered}/${s.attempted} answered, ${(s.answered / (s.ms / 1000)).toFixed(0)} sessions/s, CPU per session ${farmCpuUsPerSession.toFixed(0)} µs farm + ${((clientCpu.user + clientCpu.system) / s.attempted).toFixed(0)} µs client, load ${load[0].toFixed(1)} → ${load[1].toFixed(1)}`);
    const rssAfterSweepKiB = treeRssKiB(farm.process.pid!);
    let after = before;
    if (restart) {
      // Every BMC has state now (the sweep woke each one): the second start reads all of it.
      await farm.stop();
      o.progress('farm: starting again from its saved state');
      farm = await startFarmProcess(group, o.farmMain, env, timeoutMs);
      restartMs = farm.startMs;
      restoredState = Number(farm.listening.restoredState);
      after = await idle();
    }
    return {
      bmcs, workers: Number(farm.listening.workers), firstStartMs, ...(restartMs === undefined ? {} : { restartMs, restoredState }), rssKiB: after!.rss, idleCpuPercent: after!.idleCpuPercent,
      sweep: { attempted: s.attempted, answered: s.answered, ...(s.failures[0] ? { firstFailure: `${s.failures.length} failed, first: ${s.failures[0].target.address}: ${s.failures[0].error}` } : {}), sessionsPerSecond: s.answered / (s.ms / 1000), concurrency: SWEEP_CONCURRENCY,
        farmCpuUsPerSession, clientCpuUsPerSession: (clientCpu.user + clientCpu.system) / s.attempted, load },
      rssAfterSweepKiB,
    };
  } finally {
    await farm.stop();
    group.removeDir(stateDir);
  }
}

async function latency(group: ProcessGroup, o: FarmBenchOptions): Promise<FarmBenchReport['latency']> {
  const ipmitool = findExecutable('ipmitool')!;
  const ipmiSimPath = findExecutable('ipmi_sim');
  const sim = ipmiSimPath ? await startIpmiSim(group, ipmiSimPath) : undefined;
  const agent = await startAgent(group, { agentMain: o.agentMain });
  const port = await freeUdpPort();
  const stateDir = group.tempDir('bmcfleet-bench-farm1-');
  const farm = await startFarmProcess(group, o.farmMain, { FARM_BMCS: '1', FARM_PORTS: String(port), IPMI_ADDRESS: '127.0.0.1', BMC_STATE_DIR: stateDir }, 30_000);
  try {
    o.progress(`farm: ipmitool against one agent, a farm of one BMC${sim ? ' and ipmi_sim' : ''}, ${o.ipmitoolRuns} runs each, interleaved`);
    const [a, f, s] = await timeIpmitool(group, [
      { label: 'one agent (node dist/main.js), no -C', server: 'agent', port: agent.port, ...(agent.process.pid ? { serverPid: agent.process.pid } : {}) },
      { label: 'a farm of one BMC, no -C', server: 'farm', port, serverPid: farm.process.pid! },
      ...(sim ? [{ label: 'OpenIPMI ipmi_sim, -C 3', server: 'ipmi_sim', port: sim.port, suite: 3, ...(sim.process.pid ? { serverPid: sim.process.pid } : {}) }] : []),
    ], { ipmitool, runs: o.ipmitoolRuns, warmup: 5, perRunTimeoutMs: 20_000, deadline: Date.now() + 600_000 });
    return { agent: a!, farmOfOne: f!, ...(s ? { ipmiSim: s } : {}) };
  } finally {
    await sim?.stop();
    await agent.stop();
    await farm.stop();
    group.removeDir(stateDir);
  }
}

async function peerMemory(group: ProcessGroup, o: FarmBenchOptions): Promise<PeerMemory[]> {
  const out: PeerMemory[] = [];
  const ipmiSim = findExecutable('ipmi_sim');
  if (!ipmiSim) out.push({ name: 'OpenIPMI ipmi_sim', processes: 0, skipped: 'ipmi_sim is not installed (Debian openipmi)' });
  else {
    const sims = [];
    for (let i = 0; i < o.peerProcesses; i++) sims.push(await startIpmiSim(group, ipmiSim));
    out.push({ name: 'OpenIPMI ipmi_sim', processes: sims.length, rssKiB: sims.reduce((a, s) => a + rssKiB(s.process.pid!), 0) / sims.length });
    for (const s of sims) await s.stop();
  }
  const fakebmc = findExecutable('fakebmc');
  if (!fakebmc) out.push({ name: 'pyghmi fakebmc', processes: 0, skipped: 'fakebmc is not installed (Debian python3-pyghmi)' });
  else {
    const pids: number[] = [];
    const children = [];
    for (let i = 0; i < o.peerProcesses; i++) {
      const port = await freeUdpPort();
      const child = group.spawn(fakebmc, ['--port', String(port)]);
      children.push(child);
      if (await waitForBmc(port, 15_000)) pids.push(child.pid!);
    }
    out.push(pids.length === 0
      ? { name: 'pyghmi fakebmc', processes: 0, skipped: 'no fakebmc answered' }
      : { name: 'pyghmi fakebmc', processes: pids.length, rssKiB: pids.reduce((a, p) => a + rssKiB(p), 0) / pids.length });
    for (const c of children) await group.stop(c);
  }
  return out;
}

export async function runFarmBench(group: ProcessGroup, o: FarmBenchOptions): Promise<FarmBenchReport> {
  const report: { -readonly [K in keyof FarmBenchReport]: FarmBenchReport[K] } = { peers: [] };
  try {
    report.farm = await runFarm(group, o, o.bmcs, '127.90.0.1', true);
  } catch (err) {
    report.farmError = err instanceof Error ? err.message : String(err);
  }
  if (!findExecutable('ipmitool')) report.latencySkipped = 'ipmitool is not installed';
  else {
    try {
      report.latency = await latency(group, o);
    } catch (err) {
      report.latencySkipped = err instanceof Error ? err.message : String(err);
    }
  }
  report.peers = await peerMemory(group, o);
  if (o.largeBmcs > 0) {
    try {
      report.large = await runFarm(group, o, o.largeBmcs, '127.100.0.1', false);
    } catch (err) {
      report.largeError = err instanceof Error ? err.message : String(err);
    }
  }
  return report;
}
