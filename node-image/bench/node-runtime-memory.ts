/**
 * Memory of a powered-off node for the node-runtime bench: /proc and cgroup readers (the parsers are
 * pure) and the container measurement through the docker CLI.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ProcessGroup, runCommand } from './processes';

const KIB = 1024;
export const MIB = 1024 * 1024;

export interface ProcessMemory {
  /** VmRSS: resident memory, shared file pages (the node binary, libraries) included. */
  readonly rssKiB: number;
  readonly hwmKiB?: number;
  /** RssAnon: heap, stacks, malloc arenas: memory of this process alone. */
  readonly anonKiB?: number;
  /** RssFile: mapped files in memory, shared with every process mapping the same file. */
  readonly fileKiB?: number;
  /** From smaps_rollup: proportional set size (shared pages divided among their users). */
  readonly pssKiB?: number;
  /** From smaps_rollup: pages no other process maps. */
  readonly privateKiB?: number;
  readonly threads?: number;
}

function kib(text: string, field: string): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+)(?: kB)?\\s*$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** /proc/PID/status (+ smaps_rollup when given) → ProcessMemory; undefined without VmRSS. */
export function parseProcMemory(status: string, smapsRollup = ''): ProcessMemory | undefined {
  const rssKiB = kib(status, 'VmRSS');
  if (rssKiB === undefined) return undefined;
  const opt = (k: keyof ProcessMemory, v: number | undefined): Partial<ProcessMemory> => (v === undefined ? {} : { [k]: v });
  const pc = kib(smapsRollup, 'Private_Clean');
  const pd = kib(smapsRollup, 'Private_Dirty');
  return {
    rssKiB,
    ...opt('hwmKiB', kib(status, 'VmHWM')),
    ...opt('anonKiB', kib(status, 'RssAnon')),
    ...opt('fileKiB', kib(status, 'RssFile')),
    ...opt('pssKiB', kib(smapsRollup, 'Pss')),
    ...opt('privateKiB', pc === undefined || pd === undefined ? undefined : pc + pd),
    ...opt('threads', kib(status, 'Threads')),
  };
}

export function readProcessMemory(pid: number): ProcessMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    let rollup = '';
    try { rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'); } catch { /* older kernels */ }
    return parseProcMemory(status, rollup);
  } catch {
    return undefined;
  }
}

/** "1.2 MiB"-style figure from KiB. */
export function mib(kibValue: number | undefined): number {
  return kibValue === undefined ? NaN : kibValue / KIB;
}

// ------------------------------------------------------------------ cgroups

export interface CgroupMemoryDir {
  readonly version: 1 | 2;
  readonly dir: string;
}

/** The memory cgroup directory of a process, from its /proc/PID/cgroup. */
export function cgroupMemoryDir(procCgroup: string, root = '/sys/fs/cgroup'): CgroupMemoryDir | undefined {
  for (const line of procCgroup.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (controllers === undefined || path === undefined) continue;
    if (controllers.split(',').includes('memory')) return { version: 1, dir: join(root, 'memory', path) };
  }
  for (const line of procCgroup.split('\n')) {
    const m = /^0::(.*)$/.exec(line.trim());
    if (m && m[1] !== '/') return { version: 2, dir: join(root, m[1]!) };
  }
  return undefined;
}

/** memory.stat: "key value" lines. */
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** `docker stats --format {{.MemUsage}}`, e.g. "15.81MiB / 23.54GiB" → bytes of the first figure. */
export function parseDockerMemUsage(text: string): number | undefined {
  const m = /^\s*([\d.]+)\s*([KMGT]?i?B)\b/i.exec(text);
  if (!m) return undefined;
  const units: Record<string, number> = { B: 1, KIB: KIB, MIB: MIB, GIB: KIB * MIB, KB: 1e3, MB: 1e6, GB: 1e9 };
  const f = units[m[2]!.toUpperCase()];
  return f === undefined ? undefined : Number(m[1]) * f;
}

export interface ContainerProcess {
  readonly pid: number;
  readonly command: string;
  readonly memory: ProcessMemory;
}

export interface ContainerMemory {
  readonly image: string;
  readonly imageId: string;
  readonly dockerVersion: string;
  readonly cgroupVersion: 1 | 2;
  /** What `docker stats --no-stream` shows (usage without inactive page cache). */
  readonly dockerStatsBytes?: number;
  /** memory.usage_in_bytes (v1) or memory.current (v2). */
  readonly cgroupUsageBytes: number;
  /** The cgroup's anonymous memory (v1 total_rss, v2 anon). */
  readonly cgroupAnonBytes: number;
  /** Page cache charged to the cgroup that its processes map (already in their RSS): v1 total_mapped_file, v2 file_mapped. */
  readonly cgroupMappedFileBytes: number;
  /** Every process in the container (tini, the agent). */
  readonly processes: readonly ContainerProcess[];
  /** containerd-shim of the container (outside its cgroup, one per container). */
  readonly shim?: ContainerProcess;
  /** The agent's own log lines' summary: did it start. */
  readonly agentListening: boolean;
}

function procCommand(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}

function procParent(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export interface ContainerOptions {
  readonly image: string;
  readonly settleMs: number;
  readonly startTimeoutMs: number;
  readonly progress: (msg: string) => void;
}

/**
 * Runs one powered-off MACHINE=qemu node container (TCG, no VNC, as the tests run it; NET_ADMIN and
 * /dev/net/tun as every node), measures it once the agent listens and `settleMs` has passed, and
 * removes it with its anonymous /vm volume. Returns the reason instead when Docker or the image is
 * missing.
 */
export async function measureContainer(group: ProcessGroup, o: ContainerOptions): Promise<ContainerMemory | { skipped: string }> {
  const docker = (args: string[], timeoutMs = 30_000) => runCommand(group, 'docker', args, timeoutMs);
  const info = await docker(['version', '--format', '{{.Server.Version}}'], 15_000);
  if (info.code !== 0) return { skipped: `no Docker engine answers (${(info.stderr.trim().split('\n')[0] ?? '') || 'docker version failed'}); bash scripts/docker-engine.sh starts it` };
  const img = await docker(['image', 'inspect', '--format', '{{.Id}}', o.image]);
  if (img.code !== 0) return { skipped: `the image ${o.image} does not exist (npm run build:image builds it)` };
  const runId = randomBytes(4).toString('hex');
  const name = `bmcfleet-bench-node-${runId}`;
  try {
    const run = await docker(['run', '-d', '--name', name, '--label', 'bmcfleet.test=1', '--label', `bmcfleet.bench=${runId}`,
      '--device', '/dev/net/tun', '--cap-add', 'NET_ADMIN', '-e', 'ENABLE_KVM=false', '-e', 'VNC_PORT=none', '-e', 'NODE_NAME=bench-node', o.image], 60_000);
    if (run.code !== 0) return { skipped: `docker run failed: ${run.stderr.trim().split('\n').slice(-1)[0] ?? '?'}` };
    const deadline = Date.now() + o.startTimeoutMs;
    let listening = false;
    while (!listening && Date.now() < deadline) {
      const logs = await docker(['logs', name], 10_000);
      listening = (logs.stdout + logs.stderr).includes('"BMC listening"');
      if (!listening) await new Promise((r) => setTimeout(r, 250));
    }
    if (!listening) return { skipped: `the agent in the container did not log "BMC listening" within ${o.startTimeoutMs} ms` };
    await new Promise((r) => setTimeout(r, o.settleMs));
    const pid = Number((await docker(['inspect', '--format', '{{.State.Pid}}', name])).stdout.trim());
    const cg = cgroupMemoryDir(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    if (!cg) return { skipped: `no memory cgroup found for the container's process ${pid}` };
    const stat = parseKeyValues(readFileSync(join(cg.dir, 'memory.stat'), 'utf8'));
    const usage = Number(readFileSync(join(cg.dir, cg.version === 1 ? 'memory.usage_in_bytes' : 'memory.current'), 'utf8').trim());
    const pids = readFileSync(join(cg.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    const processes: ContainerProcess[] = [];
    for (const p of pids) {
      const memory = readProcessMemory(p);
      if (memory) processes.push({ pid: p, command: procCommand(p), memory });
    }
    const shimPid = procParent(pid);
    const shimMemory = shimPid === undefined ? undefined : readProcessMemory(shimPid);
    const stats = await docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', name]);
    const dockerStatsBytes = parseDockerMemUsage(stats.stdout);
    return {
      image: o.image,
      imageId: img.stdout.trim(),
      dockerVersion: info.stdout.trim(),
      cgroupVersion: cg.version,
      ...(dockerStatsBytes !== undefined ? { dockerStatsBytes } : {}),
      cgroupUsageBytes: usage,
      cgroupAnonBytes: cg.version === 1 ? stat['total_rss'] ?? stat['rss'] ?? 0 : stat['anon'] ?? 0,
      cgroupMappedFileBytes: cg.version === 1 ? stat['total_mapped_file'] ?? stat['mapped_file'] ?? 0 : stat['file_mapped'] ?? 0,
      processes,
      ...(shimPid !== undefined && shimMemory ? { shim: { pid: shimPid, command: procCommand(shimPid), memory: shimMemory } } : {}),
      agentListening: listening,
    };
  } finally {
    const rm = await docker(['rm', '-f', '-v', name], 60_000);
    if (rm.code !== 0 && !/No such container/i.test(rm.stderr)) o.progress(`could not remove container ${name}: ${rm.stderr.trim()}`);
    // Anything else this run labelled (nothing, unless a step above failed half-way).
    const left = await docker(['ps', '-aq', '--filter', `label=bmcfleet.bench=${runId}`], 15_000);
    for (const id of left.stdout.split('\n').filter(Boolean)) await docker(['rm', '-f', '-v', id], 60_000);
  }
}
