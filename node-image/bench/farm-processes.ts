/**
 * Processes of the farm part of the bench: a farm (node-image/dist/farm/farm-main.js) started in a
 * ProcessGroup and timed until it listens, and /proc readings summed over a process tree (a farm
 * with workers is its parent and their children).
 */
import { readdirSync, readFileSync } from 'node:fs';
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

export async function startFarmProcess(group: ProcessGroup, farmMain: string, env: Record<string, string>, timeoutMs: number): Promise<RunningFarm> {
  const started = Date.now();
  const child = group.spawn(process.execPath, ['--max-semi-space-size=8', '--expose-gc', farmMain], {
    env: { PATH: process.env.PATH ?? '', IPMI_USER: BENCH_USER, IPMI_PASS: BENCH_PASSWORD, ...env },
  });
  let tail = '';
  let listening: Record<string, unknown> | undefined;
  const onData = (d: Buffer): void => {
    tail = (tail + d.toString()).slice(-1_000_000);
    if (listening) return;
    const at = tail.indexOf('"msg":"farm listening"');
    if (at < 0) return;
    const line = tail.slice(tail.lastIndexOf('\n', at) + 1, tail.indexOf('\n', at));
    try { listening = JSON.parse(line) as Record<string, unknown>; } catch { /* not whole yet */ }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  while (!listening) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the farm exited before listening: ${tail.slice(-2_000)}`);
    if (Date.now() - started > timeoutMs) { await group.stop(child); throw new Error(`the farm did not listen within ${timeoutMs} ms`); }
    await new Promise((r) => setTimeout(r, 20));
  }
  const startMs = Date.now() - started;
  // Only the first lines matter; the rest of the log is drained and dropped.
  child.stdout!.removeListener('data', onData);
  child.stderr!.removeListener('data', onData);
  child.stdout!.resume();
  child.stderr!.resume();
  return { process: child, startMs, listening, stop: () => group.stop(child, 60_000) };
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
