/**
 * Whole short sessions with the project's client, against each server in turn: Open Session,
 * RAKP 1–4, Set Session Privilege Level, Get Chassis Status, Close Session (suite 3, which both
 * servers implement). Unlike the ipmitool rows this leaves out the client's process start and
 * its OEM probes, so what differs between the rows is the servers' own response time.
 */
import { performance } from 'node:perf_hooks';
import { IpmiClient } from '../src/client/ipmi-client';
import { processCpuMs } from './processes';
import { BENCH_PASSWORD, BENCH_USER } from './servers';
import { summarize, Summary } from './stats';

export const SESSION_TIMING_SUITE = 3;

export interface SessionTarget {
  readonly label: string;
  readonly server: string;
  readonly port: number;
  readonly serverPid?: number;
}

export interface SessionTiming {
  readonly target: SessionTarget;
  readonly attempted: number;
  readonly failures: number;
  readonly firstFailure?: string;
  readonly summary: Summary;
  /** Mean CPU time (ms) the server used per measured session. */
  readonly serverCpuMsPerSession?: number;
}

async function oneSession(port: number): Promise<void> {
  const client = await IpmiClient.connect({ host: '127.0.0.1', port, user: BENCH_USER, password: BENCH_PASSWORD, cipherSuite: SESSION_TIMING_SUITE, timeoutMs: 2_000, retries: 1 });
  try {
    await client.powerStatus();
  } finally {
    await client.close();
  }
}

/** `count` sessions per target after `warmup`, interleaved, stopping at `deadline` (Date.now()). */
export async function timeSessions(targets: readonly SessionTarget[], o: { count: number; warmup: number; deadline: number }): Promise<SessionTiming[]> {
  const state = targets.map((target) => ({ target, attempted: 0, failures: 0, firstFailure: undefined as string | undefined, samples: [] as number[], cpuMs: 0, cpuKnown: target.serverPid !== undefined }));
  for (let i = 0; i < o.warmup && Date.now() < o.deadline; i++) {
    for (const t of targets) await oneSession(t.port).catch(() => undefined);
  }
  for (let i = 0; i < o.count && Date.now() < o.deadline; i++) {
    for (const s of state) {
      const pid = s.target.serverPid;
      const cpuBefore = pid === undefined ? undefined : processCpuMs(pid);
      const t0 = performance.now();
      try {
        await oneSession(s.target.port);
        s.samples.push(performance.now() - t0);
      } catch (err) {
        s.failures++;
        s.firstFailure ??= (err as Error).message;
      }
      const cpuAfter = pid === undefined ? undefined : processCpuMs(pid);
      if (cpuBefore !== undefined && cpuAfter !== undefined) s.cpuMs += cpuAfter - cpuBefore;
      else s.cpuKnown = false;
      s.attempted++;
    }
  }
  return state.map(({ samples, cpuMs, cpuKnown, ...s }) => ({
    ...s,
    summary: summarize(samples),
    ...(cpuKnown && s.attempted > 0 ? { serverCpuMsPerSession: cpuMs / s.attempted } : {}),
  }));
}
