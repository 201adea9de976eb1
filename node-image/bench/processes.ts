/**
 * Child processes and temporary directories of the benchmark, with cleanup that runs whatever
 * happens: every child the bench starts is registered here and stopped (SIGTERM, then SIGKILL) by
 * stopAll(); a signal, an uncaught error or a plain exit kills the ones still running and removes
 * the temporary directories synchronously.
 */
import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeSessionlessResponse, encodeGetChannelAuthCapabilities } from '../src/client/client-session';

const KILL_GRACE_MS = 5_000;

export class ProcessGroup {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs = new Set<string>();

  /** Spawns a tracked child; it leaves the group when it exits. */
  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    // A failed spawn (ENOENT) reports through 'error'; the caller sees it as an exit code.
    child.once('error', () => this.children.delete(child));
    return child;
  }

  /** A fresh temporary directory, removed by cleanup. */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.add(dir);
    return dir;
  }

  removeDir(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    this.dirs.delete(dir);
  }

  get running(): number { return this.children.size; }

  /** SIGTERM to one child, SIGKILL after the grace period; resolves once it has exited. */
  async stop(child: ChildProcess, graceMs = KILL_GRACE_MS): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || !this.children.has(child)) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Stops every child still running and removes every temporary directory. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((c) => this.stop(c)));
    for (const d of [...this.dirs]) this.removeDir(d);
  }

  /** For exit paths that cannot wait: SIGKILL to every child, directories removed. */
  killAllNow(): void {
    for (const c of this.children) {
      try { c.kill('SIGKILL'); } catch { /* already gone */ }
    }
    this.children.clear();
    for (const d of [...this.dirs]) {
      try { this.removeDir(d); } catch { /* best effort */ }
    }
  }
}

/** Installs exit/signal handlers that clean the group up; returns the function that removes them. */
export function cleanupOnExit(group: ProcessGroup): () => void {
  const onExit = (): void => group.killAllNow();
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nbench: ${signal}, stopping every process it started\n`);
    group.killAllNow();
    process.exit(130);
  };
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** A UDP port that was free a moment ago on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The executable's path on PATH, or undefined. */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** From spawn to the close of its output streams. */
  readonly wallMs: number;
  readonly timedOut: boolean;
}

/** Runs a command to completion with a hard time limit (SIGKILL when it is exceeded). */
export function runCommand(group: ProcessGroup, command: string, args: readonly string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = group.spawn(command, args);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    const finish = (code: number | null): void => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, wallMs: performance.now() - started, timedOut });
    };
    child.once('error', (err) => { stderr += String(err); finish(null); });
    child.once('close', (code) => finish(code));
  });
}

/**
 * Waits until a BMC answers Get Channel Authentication Capabilities (IPMI 1.5 framing, outside a
 * session, as every client's first packet) on address:port (default 127.0.0.1). Tries every 100 ms up
 * to timeoutMs.
 */
export async function waitForBmc(port: number, timeoutMs: number, address = '127.0.0.1'): Promise<boolean> {
  const socket = createSocket('udp4');
  let answered = false;
  socket.on('message', (m) => {
    try {
      if (decodeSessionlessResponse(m).completionCode === 0) answered = true;
    } catch {
      // not an answer
    }
  });
  socket.on('error', () => undefined);
  try {
    await new Promise<void>((resolve) => socket.bind(0, address === '127.0.0.1' ? '127.0.0.1' : '0.0.0.0', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    while (!answered && Date.now() < deadline) {
      socket.send(encodeGetChannelAuthCapabilities(), port, address);
      await new Promise((r) => setTimeout(r, 100));
    }
    return answered;
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

let clockTicks: number | undefined;

/**
 * CPU time (ms) a process has used so far, user and system, all threads: the sum of the
 * threads' /proc/PID/task/TID/schedstat run times (nanoseconds), or /proc/PID/stat in clock
 * ticks where schedstat is missing; undefined where there is no /proc. Unlike throughput, CPU
 * time per request hardly depends on what else the machine is running.
 */
export function processCpuMs(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    if (ns > 0) return ns / 1e6;
  } catch {
    // no schedstat: fall back to the tick counters
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm) ": state is field 3, utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5_000 }).trim()) || 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}
