/**
 * In-session requests per second: one RMCP+ session of the project's IpmiClient, a fixed number
 * of identical requests with a bounded window in flight (IpmiClient.requestMany), bounded in time
 * as well: when the deadline passes first, the client is closed and the case reports a failure.
 */
import { IpmiClient } from '../src/client/ipmi-client';
import { AppCmd, ChassisCmd, NetFn } from '../src/protocol/netfn';
import { BENCH_PASSWORD, BENCH_USER } from './servers';
import { processCpuMs } from './processes';

export interface ThroughputCommand {
  readonly name: string;
  readonly netFn: number;
  readonly cmd: number;
}

export const THROUGHPUT_COMMANDS: readonly ThroughputCommand[] = [
  { name: 'Get Device ID', netFn: NetFn.App, cmd: AppCmd.GetDeviceId },
  { name: 'Get Chassis Status', netFn: NetFn.Chassis, cmd: ChassisCmd.GetChassisStatus },
];

export interface ThroughputCase {
  readonly suite: number;
  readonly command: ThroughputCommand;
  readonly count: number;
  readonly window: number;
  /** Requests sent first, not measured (JIT and caches of both sides). */
  readonly warmup: number;
  readonly timeoutMs: number;
  /** The agent's process, to measure its CPU time per request. */
  readonly agentPid?: number;
}

export interface ThroughputResult {
  readonly case: ThroughputCase;
  readonly ok: boolean;
  readonly error?: string;
  readonly completed: number;
  readonly elapsedMs: number;
  readonly requestsPerSecond: number;
  readonly latencyMs?: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly retransmits: number;
  /** CPU time (user + system) per measured request, in µs, of the agent and of this (client) process. */
  readonly agentCpuUsPerRequest?: number;
  readonly clientCpuUsPerRequest?: number;
  /** Requests per second of every repetition, in order, when the case was repeated (this result is the best). */
  readonly repetitions?: readonly number[];
  /** Completion codes other than 00h, with their counts. */
  readonly badCompletionCodes: Readonly<Record<number, number>>;
}

export async function measureThroughput(port: number, c: ThroughputCase): Promise<ThroughputResult> {
  const failed = (error: string, elapsedMs = 0): ThroughputResult =>
    ({ case: c, ok: false, error, completed: 0, elapsedMs, requestsPerSecond: 0, retransmits: 0, badCompletionCodes: {} });
  let client: IpmiClient;
  try {
    client = await IpmiClient.connect({ host: '127.0.0.1', port, user: BENCH_USER, password: BENCH_PASSWORD, cipherSuite: c.suite });
  } catch (err) {
    return failed(`login failed: ${(err as Error).message}`);
  }
  let timer: NodeJS.Timeout | undefined;
  const started = Date.now();
  try {
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not finished within ${c.timeoutMs} ms`)), c.timeoutMs);
    });
    if (c.warmup > 0) await Promise.race([client.requestMany(c.warmup, c.command.netFn, c.command.cmd, undefined, c.window), timedOut]);
    const agentCpuBefore = c.agentPid === undefined ? undefined : processCpuMs(c.agentPid);
    const clientCpuBefore = process.cpuUsage();
    const r = await Promise.race([client.requestMany(c.count, c.command.netFn, c.command.cmd, undefined, c.window), timedOut]);
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const agentCpuAfter = c.agentPid === undefined ? undefined : processCpuMs(c.agentPid);
    const agentCpuUs = agentCpuBefore !== undefined && agentCpuAfter !== undefined ? ((agentCpuAfter - agentCpuBefore) * 1000) / r.count : undefined;
    const bad: Record<number, number> = {};
    for (const [code, n] of Object.entries(r.completionCodes)) if (Number(code) !== 0) bad[Number(code)] = n;
    return {
      case: c,
      ok: Object.keys(bad).length === 0,
      ...(Object.keys(bad).length ? { error: 'non-zero completion codes' } : {}),
      completed: r.count,
      elapsedMs: r.elapsedMs,
      requestsPerSecond: r.requestsPerSecond,
      latencyMs: r.latencyMs,
      retransmits: r.retransmits,
      ...(agentCpuUs !== undefined ? { agentCpuUsPerRequest: agentCpuUs } : {}),
      clientCpuUsPerRequest: (clientCpu.user + clientCpu.system) / r.count,
      badCompletionCodes: bad,
    };
  } catch (err) {
    return failed((err as Error).message, Date.now() - started);
  } finally {
    if (timer) clearTimeout(timer);
    await client.close();
  }
}

/**
 * Runs a case `repeat` times, each in a fresh session, and returns the fastest successful run
 * with every run's rate: on a shared machine the best of a few runs says what the agent can do,
 * the spread says how much the neighbours took. A failed run is returned as soon as it happens.
 */
export async function measureThroughputBest(port: number, c: ThroughputCase, repeat: number): Promise<ThroughputResult> {
  const runs: ThroughputResult[] = [];
  for (let i = 0; i < repeat; i++) {
    const r = await measureThroughput(port, c);
    if (!r.ok) return { ...r, repetitions: [...runs.map((x) => x.requestsPerSecond), 0] };
    runs.push(r);
  }
  const best = runs.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
  return { ...best, repetitions: runs.map((x) => x.requestsPerSecond) };
}
