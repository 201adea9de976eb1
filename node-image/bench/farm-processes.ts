/**
 * Processes of the farm part of the bench: a farm (node-image/dist/farm/farm-main.js) started in a
 * ProcessGroup and timed until it listens, and /proc readings summed over a process tree (a farm
 * with workers is its parent and their children).
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { processCpuMs, type ProcessGroup } from './processes';
import { BENCH_PASSWORD, BENCH_USER } from './servers';

export interface RunningFarm {
  readonly process: ChildProcess;
  /** From spawn to the farm's "farm listening" line (ms). */
  readonly startMs: number;
  /** The fields of that line (bmcs, workers, restoredState, …). */
  readonly listening: Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * Starts a farm whose log goes to a file (not a pipe to this process: the bench process runs the
 * client whose CPU time per session is measured, and a farm must never wait for a full pipe) and
 * waits for its "farm listening" line.
 */
export async function startFarmProcess(group: ProcessGroup, farmMain: string, env: Record<string, string>, timeoutMs: number): Promise<RunningFarm> {
  const started = Date.now();
  const logFile = join(group.tempDir('bmcfleet-bench-farm-log-'), 'farm.log');
  const fd = openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = group.spawn(process.execPath, ['--max-semi-space-size=8', '--expose-gc', farmMain], {
      env: { PATH: process.env.PATH ?? '', IPMI_USER: BENCH_USER, IPMI_PASS: BENCH_PASSWORD, ...env },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const tail = (): string => { try { return readFileSync(logFile, 'utf8').slice(-2_000); } catch { return ''; } };
  let listening: Record<string, unknown> | undefined;
  while (!listening) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the farm exited before listening: ${tail()}`);
    if (Date.now() - started > timeoutMs) { await group.stop(child); throw new Error(`the farm did not listen within ${timeoutMs} ms`); }
    await new Promise((r) => setTimeout(r, 20));
    listening = findListening(logFile);
  }
  const startMs = Date.now() - started;
  return { process: child, startMs, listening, stop: () => group.stop(child, 60_000) };
}

/** The fields of the "farm listening" line in the first MiB of the log, once it is there whole. */
function findListening(logFile: string): Record<string, unknown> | undefined {
  let head: string;
  try {
    const fd = openSync(logFile, 'r');
    try {
      const buf = Buffer.alloc(1 << 20);
      head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const at = head.indexOf('"msg":"farm listening"');
  const end = head.indexOf('\n', at);
  if (at < 0 || end < 0) return undefined;
  try { return JSON.parse(head.slice(head.lastIndexOf('\n', at) + 1, end)) as Record<string, unknown>; } catch { return undefined; }
}

/** `pid` and every descendant, from /proc/PID/stat parent ids. */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(name), Number(fields[1]));
    } catch { /* gone */ }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  return tree;
}

/** Resident memory (VmRSS, KiB) of one process; 0 when it is gone. */
export function rssKiB(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export const treeRssKiB = (pid: number): number => processTree(pid).reduce((a, p) => a + rssKiB(p), 0);
export const treeCpuMs = (pid: number): number => processTree(pid).reduce((a, p) => a + (processCpuMs(p) ?? 0), 0);
