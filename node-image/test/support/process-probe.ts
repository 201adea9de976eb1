/**
 * Looking at a running agent from outside: its open file descriptors and resident memory
 * (/proc/<pid>), its UDP socket's receive queue and kernel drops (/proc/net/udp), and running a
 * client without blocking the test's event loop (so the test can send traffic at the same time).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { RunResult } from './tools';

export interface ProcessResources {
  /** Entries of /proc/<pid>/fd. */
  readonly fds: number;
  /** VmRSS in KiB. */
  readonly rssKiB: number;
}

export function processResources(pid: number): ProcessResources {
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return { fds, rssKiB: Number(m[1]) };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface UdpSocketStats {
  /** Bytes waiting in the receive queue. */
  readonly rxQueue: number;
  /** Datagrams the kernel dropped because the receive buffer was full. */
  readonly drops: number;
}

/** The IPv4 UDP socket bound to 127.0.0.1:<port>, from /proc/net/udp; undefined when not found. */
export function udpSocketStats(port: number): UdpSocketStats | undefined {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] !== want) continue;
    const rx = f[4]?.split(':')[1] ?? '0';
    return { rxQueue: parseInt(rx, 16), drops: Number(f[f.length - 1] ?? 0) };
  }
  return undefined;
}

/** Like tools.run, but asynchronous: the child is killed (SIGKILL) at the time limit. */
export function runAsync(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('error', (err) => { clearTimeout(timer); resolve({ status: null, stdout, stderr: stderr + String(err), ms: Date.now() - started }); });
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr, ms: Date.now() - started }); });
  });
}

/** The agent's JSON log lines at level error (the catch-alls for bugs log there). */
export function errorLogLines(output: string): string[] {
  return output.split('\n').filter((l) => /"level":"error"/.test(l));
}

/**
 * Log lines that mean a bug in the agent: every error line, and the dispatcher's "command handler
 * failed" warning (a handler threw something other than a protocol or machine error; the client
 * only sees 0xFF).
 */
export function bugLogLines(output: string): string[] {
  return output.split('\n').filter((l) => /"level":"error"/.test(l) || /"msg":"command handler failed"/.test(l));
}
