/**
 * Wall time of whole `ipmitool -I lanplus ... power status` invocations (process start to exit:
 * discovery, handshake, the command, Close Session), the way an operator or a script sees a BMC.
 * Targets are measured interleaved (A, B, C, A, B, C, ...) so that load from other processes on a
 * shared machine falls on all of them alike.
 */
import { processCpuMs, runCommand, ProcessGroup } from './processes';
import { BENCH_PASSWORD, BENCH_USER } from './servers';
import { summarize, Summary } from './stats';

export interface IpmitoolTarget {
  /** Row label, e.g. "bmcfleet agent, -C 3". */
  readonly label: string;
  readonly server: string;
  readonly port: number;
  /** -C value; undefined lets ipmitool discover the suite (Get Channel Cipher Suites). */
  readonly suite?: number;
  /** The server's process, to measure the CPU time it spends per invocation. */
  readonly serverPid?: number;
}

export interface IpmitoolTiming {
  readonly target: IpmitoolTarget;
  readonly attempted: number;
  readonly failures: number;
  readonly firstFailure?: string;
  /** Wall times of the successful runs (ms). */
  readonly samples: number[];
  readonly summary: Summary;
  /** Mean CPU time (ms) the server used per measured invocation, when its pid was known. */
  readonly serverCpuMsPerRun?: number;
}

export interface IpmitoolTimingOptions {
  readonly ipmitool: string;
  readonly runs: number;
  readonly warmup: number;
  /** Hard limit per invocation (it is killed after it). */
  readonly perRunTimeoutMs: number;
  /** Stop measuring at this time (Date.now() value); the runs done so far are reported. */
  readonly deadline: number;
}

export function ipmitoolArgs(t: { port: number; suite?: number }, command: readonly string[] = ['power', 'status'], extra: readonly string[] = []): string[] {
  return [
    ...extra,
    '-I', 'lanplus', '-H', '127.0.0.1', '-p', String(t.port), '-U', BENCH_USER, '-P', BENCH_PASSWORD,
    ...(t.suite === undefined ? [] : ['-C', String(t.suite)]),
    ...command,
  ];
}

const POWER_STATUS_OK = /Chassis Power is (on|off)/;

export async function timeIpmitool(group: ProcessGroup, targets: readonly IpmitoolTarget[], o: IpmitoolTimingOptions): Promise<IpmitoolTiming[]> {
  const state = targets.map((target) => ({ target, attempted: 0, failures: 0, firstFailure: undefined as string | undefined, samples: [] as number[], serverCpuMs: 0, cpuKnown: target.serverPid !== undefined }));
  const once = async (t: IpmitoolTarget): Promise<{ ok: boolean; wallMs: number; why: string }> => {
    const r = await runCommand(group, o.ipmitool, ipmitoolArgs(t), o.perRunTimeoutMs);
    const ok = r.code === 0 && POWER_STATUS_OK.test(r.stdout);
    const why = r.timedOut ? `killed after ${o.perRunTimeoutMs} ms` : `exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' / ')}`;
    return { ok, wallMs: r.wallMs, why };
  };
  for (let i = 0; i < o.warmup && Date.now() < o.deadline; i++) {
    for (const t of targets) await once(t);
  }
  for (let i = 0; i < o.runs && Date.now() < o.deadline; i++) {
    for (const s of state) {
      const pid = s.target.serverPid;
      const cpuBefore = pid === undefined ? undefined : processCpuMs(pid);
      const r = await once(s.target);
      const cpuAfter = pid === undefined ? undefined : processCpuMs(pid);
      if (cpuBefore !== undefined && cpuAfter !== undefined) s.serverCpuMs += cpuAfter - cpuBefore;
      else s.cpuKnown = false;
      s.attempted++;
      if (r.ok) s.samples.push(r.wallMs);
      else {
        s.failures++;
        s.firstFailure ??= r.why;
      }
    }
  }
  return state.map(({ serverCpuMs, cpuKnown, ...s }) => ({
    ...s,
    summary: summarize(s.samples),
    ...(cpuKnown && s.attempted > 0 ? { serverCpuMsPerRun: serverCpuMs / s.attempted } : {}),
  }));
}

/** The suite ipmitool picks without -C, from its "-vv" line "Using best available cipher suite N". */
export async function negotiatedSuite(group: ProcessGroup, ipmitool: string, port: number, timeoutMs: number): Promise<number | undefined> {
  const r = await runCommand(group, ipmitool, ipmitoolArgs({ port }, ['power', 'status'], ['-vv']), timeoutMs);
  const m = /best available cipher suite (\d+)/i.exec(r.stdout + r.stderr);
  return m ? Number(m[1]) : undefined;
}

/** First line of `ipmitool -V`, e.g. "ipmitool version 1.8.19". */
export async function ipmitoolVersion(group: ProcessGroup, ipmitool: string): Promise<string> {
  const r = await runCommand(group, ipmitool, ['-V'], 5_000);
  return (r.stdout + r.stderr).trim().split('\n')[0] ?? 'unknown';
}
