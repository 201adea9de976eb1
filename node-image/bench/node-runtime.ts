/**
 * The node-runtime part of `npm run bench` (called from run-bench.ts):
 *
 * 1. Power-on → first guest byte on SOL: the agent (MACHINE=qemu, TCG, no VNC, the test guest's ISO)
 *    directly on the host, powered on with Chassis Control from a SOL session of the bench
 *    (node-runtime-sol.ts) that is active before the power-on; against the agent's own QEMU command
 *    line launched bare with `-serial stdio`. Runs interleaved, one warm-up each, medians.
 * 2. Memory of a powered-off node: the agent's RSS (and Node's floor, and what the agent loads at
 *    start), and a powered-off node container when Docker and bmcfleet/node:latest are there.
 * 3. The devices on QEMU's command line, and the PCI devices the running QEMU really has.
 *
 * Everything on 127.0.0.1; every process, directory and container it creates is removed when it
 * ends, also on failure or Ctrl-C (ProcessGroup, cleanupOnExit).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cleanupOnExit, findExecutable, freeUdpPort, ProcessGroup, runCommand } from './processes';
import { BENCH_PASSWORD, BENCH_USER } from './servers';
import { CHASSIS_OFF, CHASSIS_ON, SolConsole } from './node-runtime-sol';
import {
  bareQemuArgs, BootTiming, OutputWatcher, powerOnPhases, QemuCommandLine, qemuCommandLineFromLog, READY_MARKER, runBareQemu,
} from './node-runtime-qemu';
import { ContainerMemory, measureContainer, ProcessMemory, readProcessMemory } from './node-runtime-memory';
import { buildQemuArgs, resolveBoot } from '../src/machine/qemu-args';
import { parseQemuConfig } from '../src/machine/qemu-config';
import { QmpClient } from '../src/machine/qmp-client';
import { MEMORY_SAMPLES, type MemoryVariant, type NodeRuntimeReport, type PciDevice, type StartupProbe } from './node-runtime-report';

export const DEFAULT_BOOT_RUNS = 5;
export const NODE_RUNTIME_OPTIONS_HELP = [
  "--boot-runs N     power-ons per side in the node-runtime part (default 5); 0 skips that part",
];
export const NODE_IMAGE = 'bmcfleet/node:latest';
/** Generous: the guest boots in 8–17 s under TCG, up to 120 s on a busy machine. */
const BOOT_TIMEOUT_MS = 180_000;
const FIRST_BYTE_TIMEOUT_MS = 60_000;
const POWER_OFF_TIMEOUT_MS = 20_000;
const AGENT_START_TIMEOUT_MS = 15_000;
/** How long a process is left alone after it started before its memory is read. */
const SETTLE_MS = 3_000;
const GUEST_BUILD_TIMEOUT_MS = 600_000;
/** SOL parameter 3 at its most eager: 5 ms accumulate interval, send from 1 character. */
const FAST_SOL = { intervalUnits: 1, threshold: 1 };

export interface NodeRuntimeOptions {
  readonly runs: number;
  readonly repoRoot: string;
  readonly agentMain: string;
  readonly progress: (msg: string) => void;
  /** Epoch ms after which no new boot run starts. */
  readonly deadline: number;
}

/** Agents started by this part: their QEMU children are killed if the bench ends abruptly. */
const liveAgents = new Set<number>();

/** Processes whose parent is `pid` (from /proc; QEMU runs detached, in its own process group). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try { entries = readdirSync('/proc'); } catch { return out; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function killProcesses(pids: readonly number[]): void {
  for (const p of pids) {
    try { process.kill(p, 'SIGKILL'); } catch { /* already gone */ }
  }
}

/** On Ctrl-C or exit, before the process group SIGKILLs the agents: their QEMU children first. */
function killAgentChildrenOnExit(): () => void {
  const kill = (): void => { for (const a of liveAgents) killProcesses(childrenOf(a)); };
  process.on('exit', kill);
  process.prependListener('SIGINT', kill);
  process.prependListener('SIGTERM', kill);
  return () => { process.off('exit', kill); process.off('SIGINT', kill); process.off('SIGTERM', kill); };
}

interface QemuAgent {
  readonly port: number;
  readonly pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** The agent with MACHINE=qemu on 127.0.0.1, a temporary disk and state directory, powered off. */
async function startQemuAgent(group: ProcessGroup, agentMain: string, env: Record<string, string>, nodeFlags: readonly string[] = []): Promise<QemuAgent> {
  const port = await freeUdpPort();
  const dir = group.tempDir('bmcfleet-bench-node-');
  const child = group.spawn(process.execPath, [...nodeFlags, agentMain], {
    env: {
      PATH: process.env.PATH ?? '',
      MACHINE: 'qemu',
      ENABLE_KVM: 'false',
      VNC_PORT: 'none',
      VM_DISK: join(dir, 'disk.qcow2'),
      BMC_STATE_DIR: join(dir, 'bmc'),
      IPMI_ADDRESS: '127.0.0.1',
      IPMI_PORT: String(port),
      IPMI_USER: BENCH_USER,
      IPMI_PASS: BENCH_PASSWORD,
      NODE_NAME: 'bench-node',
      // IPMI only, as the figures compared over time were measured; 443 is not free on a host anyway.
      REDFISH_PORT: 'none',
      ...env,
    },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  if (child.pid !== undefined) liveAgents.add(child.pid);
  const stop = async (): Promise<void> => {
    // The agent stops its QEMU on SIGTERM; should it be killed instead, QEMU would outlive it.
    const qemu = child.pid === undefined ? [] : childrenOf(child.pid);
    await group.stop(child);
    killProcesses(qemu.filter((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('qemu'); } catch { return false; } }));
    if (child.pid !== undefined) liveAgents.delete(child.pid);
    group.removeDir(dir);
  };
  const deadline = Date.now() + AGENT_START_TIMEOUT_MS;
  while (!out.includes('"BMC listening"')) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the agent (MACHINE=qemu) did not start:\n${out.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { port, pid: child.pid!, output: () => out, stop };
}

/** One power-on of the agent's node, timed from the Chassis Control request to SOL output. */
async function agentBoot(agent: QemuAgent, o: { untilFirstByte?: boolean; accumulate?: { intervalUnits: number; threshold: number } }): Promise<BootTiming> {
  const logFrom = agent.output().length;
  const sol = await SolConsole.open({ port: agent.port, user: BENCH_USER, password: BENCH_PASSWORD, ...(o.accumulate ? { accumulate: o.accumulate } : {}) });
  const watch = new OutputWatcher();
  sol.onOutput((d, at) => watch.feed(d, at));
  let error: string | undefined;
  let sentAt = NaN;
  let sentAtEpoch = NaN;
  let answeredAt: number | undefined;
  try {
    const r = await sol.chassisControl(CHASSIS_ON);
    sentAt = r.sentAtMs;
    sentAtEpoch = r.sentAtEpochMs;
    answeredAt = r.answeredAtMs;
    if (r.completionCode !== 0) error = `Chassis Control power on answered 0x${r.completionCode.toString(16)}`;
    else if (o.untilFirstByte) { if (!await watch.waitFirst(FIRST_BYTE_TIMEOUT_MS)) error = 'no SOL output'; }
    else if (!await watch.waitReady(BOOT_TIMEOUT_MS)) error = `no ${READY_MARKER} on SOL within ${BOOT_TIMEOUT_MS} ms`;
  } catch (err) {
    error = (err as Error).message;
  } finally {
    await powerOff(sol).catch((err: unknown) => { error ??= `power off: ${(err as Error).message}`; });
    await sol.close();
  }
  const phases = watch.firstAt === undefined ? undefined : powerOnPhases(agent.output().slice(logFrom), sentAtEpoch, sentAtEpoch + (watch.firstAt - sentAt));
  return {
    ...(phases ? { phases } : {}),
    ...(watch.firstAt !== undefined ? { firstByteMs: watch.firstAt - sentAt } : {}),
    ...(watch.readyAt !== undefined ? { readyMs: watch.readyAt - sentAt } : {}),
    ...(answeredAt !== undefined ? { answeredMs: answeredAt - sentAt } : {}),
    bytes: watch.bytes,
    ...(error ? { error } : {}),
  };
}

async function powerOff(sol: SolConsole): Promise<void> {
  sol.onOutput(undefined);
  await sol.chassisControl(CHASSIS_OFF);
  const deadline = performance.now() + POWER_OFF_TIMEOUT_MS;
  while (await sol.powerIsOn()) {
    if (performance.now() > deadline) throw new Error(`still on ${POWER_OFF_TIMEOUT_MS} ms after Chassis Control power off`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** PCI devices of a running QEMU (QMP query-pci on its QMP socket). */
async function queryPci(socket: string): Promise<PciDevice[]> {
  let qmp: QmpClient | undefined;
  for (let attempt = 0; attempt < 50 && !qmp; attempt++) {
    try {
      qmp = await QmpClient.connect(socket, { timeoutMs: 5_000, handshakeTimeoutMs: 5_000 });
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!qmp) throw new Error(`cannot connect to ${socket}`);
  try {
    type Dev = { bus: number; slot: number; function: number; class_info: { class: number; desc?: string }; id: { vendor: number; device: number }; qdev_id: string; pci_bridge?: { devices: Dev[] } };
    const buses = await qmp.execute<Array<{ bus: number; devices: Dev[] }>>('query-pci');
    const out: PciDevice[] = [];
    const walk = (devs: readonly Dev[]): void => {
      for (const d of devs) {
        out.push({
          address: `${d.bus.toString(16).padStart(2, '0')}:${d.slot.toString(16).padStart(2, '0')}.${d.function}`,
          vendorDevice: `${d.id.vendor.toString(16).padStart(4, '0')}:${d.id.device.toString(16).padStart(4, '0')}`,
          classCode: d.class_info.class,
          ...(d.class_info.desc ? { description: d.class_info.desc } : {}),
          qdevId: d.qdev_id,
        });
        if (d.pci_bridge) walk(d.pci_bridge.devices);
      }
    };
    for (const b of buses) walk(b.devices);
    return out;
  } finally {
    await qmp.close();
  }
}

/** Memory of a process `SETTLE_MS` after it started. */
async function settledMemory(group: ProcessGroup, command: string, args: readonly string[]): Promise<ProcessMemory | undefined> {
  const child = group.spawn(command, args, { env: { PATH: process.env.PATH ?? '' } });
  try {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return child.pid === undefined ? undefined : readProcessMemory(child.pid);
  } finally {
    await group.stop(child);
  }
}

async function settledAgentMemory(group: ProcessGroup, agentMain: string, nodeFlags: readonly string[] = [], env: Record<string, string> = {}): Promise<ProcessMemory | undefined> {
  const agent = await startQemuAgent(group, agentMain, env, nodeFlags);
  try {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return readProcessMemory(agent.pid);
  } finally {
    await agent.stop();
  }
}

function medianMemory(samples: readonly (ProcessMemory | undefined)[]): ProcessMemory | undefined {
  const ok = samples.filter((s): s is ProcessMemory => s !== undefined).sort((a, b) => a.rssKiB - b.rssKiB);
  return ok[Math.floor((ok.length - 1) / 2)];
}

/** What the agent loads at start: a preload reports modules and heap; --trace-opt the functions V8 optimized. */
const PROBE_SOURCE = `setTimeout(() => {
  const fs = require('fs');
  const files = Object.keys(require.cache).filter((f) => f !== __filename);
  const m = process.memoryUsage();
  const out = { modules: files.length, sourceBytes: files.reduce((a, f) => { try { return a + fs.statSync(f).size; } catch { return a; } }, 0),
    builtins: process.moduleLoadList.filter((x) => x.startsWith('NativeModule ')).map((x) => x.slice(13)).filter((x) => !x.startsWith('internal/')),
    heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
  process.stderr.write('BENCH-PROBE ' + JSON.stringify(out) + '\\n');
}, ${SETTLE_MS}).unref();
`;

async function startupProbe(group: ProcessGroup, agentMain: string): Promise<StartupProbe | undefined> {
  const dir = group.tempDir('bmcfleet-bench-probe-');
  const probe = join(dir, 'probe.js');
  writeFileSync(probe, PROBE_SOURCE);
  const agent = await startQemuAgent(group, agentMain, {}, ['--trace-opt', '-r', probe]);
  try {
    const deadline = Date.now() + SETTLE_MS + 5_000;
    while (!agent.output().includes('BENCH-PROBE ') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  } finally {
    await agent.stop();
    group.removeDir(dir);
  }
  const text = agent.output();
  const line = text.split('\n').find((l) => l.startsWith('BENCH-PROBE '));
  if (!line) return undefined;
  const p = JSON.parse(line.slice('BENCH-PROBE '.length)) as Omit<StartupProbe, 'optimized'>;
  const optimized = [...new Set([...text.matchAll(/completed (?:optimizing|compiling) [^<]*<JSFunction (\S*)[^>]*>(?: \(target (\w+)\))?/g)].map((m) => `${m[1] || '(anonymous)'}${m[2] ? ` (${m[2]})` : ''}`))];
  return { ...p, optimized };
}

function qemuVersion(group: ProcessGroup, binary: string): Promise<string> {
  return runCommand(group, binary, ['--version'], 10_000).then((r) => r.stdout.split('\n')[0]?.trim() || 'unknown');
}

/** The default node's command line (design.md defaults: disk, empty CD-ROM, VNC, KVM when present). */
export function defaultNodeArgs(): string[] {
  const { config } = parseQemuConfig({});
  return buildQemuArgs({
    config,
    boot: resolveBoot({ device: 'default' }, config),
    accel: 'kvm',
    paths: { qmpSocket: '/tmp/bmcfleet-qemu-XXXXXX/qmp.sock', serialSocket: '/tmp/bmcfleet-qemu-XXXXXX/serial.sock', ovmfCode: '/usr/share/OVMF/OVMF_CODE_4M.fd', ovmfVars: '/vm/OVMF_VARS.fd' },
    diskFormat: 'qcow2',
    name: 'node1',
    serialNumber: 'node1',
    uuid: '00000000-0000-0000-0000-000000000000',
  });
}

export async function runNodeRuntimeBench(o: NodeRuntimeOptions): Promise<NodeRuntimeReport> {
  const started = Date.now();
  const group = new ProcessGroup();
  const uninstall = cleanupOnExit(group);
  const uninstallQemuKiller = killAgentChildrenOnExit();
  const progress = o.progress;
  const agentRuns: BootTiming[] = [];
  const bareRuns: BootTiming[] = [];
  const fastSolRuns: BootTiming[] = [];
  const memoryVariants: MemoryVariant[] = [];
  const report: Mutable<NodeRuntimeReport> = { runs: o.runs, agentRuns, bareRuns, fastSolRuns, defaultNodeArgs: defaultNodeArgs(), memoryVariants, durationS: 0 };
  try {
    const qemu = findExecutable('qemu-system-x86_64');
    const qemuImg = findExecutable('qemu-img');
    if (!qemu || !qemuImg) {
      report.bootSkipped = 'qemu-system-x86_64 or qemu-img is not installed (bash scripts/setup.sh installs them)';
    } else {
      report.qemuVersion = await qemuVersion(group, qemu);
    }

    // ---- 2. memory first, while nothing else of the bench runs
    progress(`node runtime: memory of a powered-off node (agent MACHINE=qemu, Node's floor), ${MEMORY_SAMPLES} samples each`);
    const floor: (ProcessMemory | undefined)[] = [];
    const agentFresh: (ProcessMemory | undefined)[] = [];
    for (let i = 0; i < MEMORY_SAMPLES; i++) {
      floor.push(await settledMemory(group, process.execPath, ['-e', 'setInterval(()=>{},1000)']));
      agentFresh.push(await settledAgentMemory(group, o.agentMain));
    }
    const floorMemory = medianMemory(floor);
    const agentMemory = medianMemory(agentFresh);
    if (floorMemory) report.floorMemory = floorMemory;
    if (agentMemory) report.agentMemory = agentMemory;
    progress(`  agent ${((report.agentMemory?.rssKiB ?? NaN) / 1024).toFixed(1)} MiB RSS, Node floor ${((report.floorMemory?.rssKiB ?? NaN) / 1024).toFixed(1)} MiB`);
    for (const flags of [['--no-opt'], ['--lite-mode']]) {
      const m = await settledAgentMemory(group, o.agentMain, flags);
      if (m) memoryVariants.push({ flags, memory: m });
    }
    const probe = await startupProbe(group, o.agentMain).catch(() => undefined);
    if (probe) report.startup = probe;

    // ---- 1. boots
    if (!report.bootSkipped) {
      progress('node runtime: test guest (bash scripts/build-test-guest.sh)');
      const guestDir = join(o.repoRoot, '.cache', 'test-guest');
      const build = await runCommand(group, 'bash', [join(o.repoRoot, 'scripts', 'build-test-guest.sh'), guestDir], GUEST_BUILD_TIMEOUT_MS);
      if (build.code !== 0) {
        report.bootSkipped = `the test guest did not build: ${(build.stderr || build.stdout).trim().split('\n').slice(-1)[0] ?? '?'}`;
      } else {
        try { report.guest = readFileSync(join(guestDir, 'versions.txt'), 'utf8').trim().split('\n').filter((l) => !/^append\s*$/.test(l)).join('; '); } catch { /* optional */ }
        await bootRuns(group, o, join(guestDir, 'guest.iso'), report, agentRuns, bareRuns, fastSolRuns);
      }
    }

    // ---- 2b. the container
    progress(`node runtime: a powered-off node container (${NODE_IMAGE})`);
    const container = await measureContainer(group, { image: NODE_IMAGE, settleMs: SETTLE_MS, startTimeoutMs: 60_000, progress });
    if ('skipped' in container) {
      report.containerSkipped = container.skipped;
      progress(`  skipped: ${container.skipped}`);
    } else {
      report.container = container;
    }
  } finally {
    await group.stopAll();
    uninstall();
    uninstallQemuKiller();
  }
  report.durationS = (Date.now() - started) / 1000;
  return report;
}

async function bootRuns(
  group: ProcessGroup, o: NodeRuntimeOptions, iso: string, report: Mutable<NodeRuntimeReport>, agentRuns: BootTiming[], bareRuns: BootTiming[], fastSolRuns: BootTiming[],
): Promise<void> {
  const env = { VM_CDROM: iso, VM_BOOT: 'd', DEBUG: 'true' };
  report.agentEnv = { MACHINE: 'qemu', ENABLE_KVM: 'false', VNC_PORT: 'none', VM_CDROM: iso, VM_BOOT: 'd', DEBUG: 'true' };
  const progress = o.progress;
  const agent = await startQemuAgent(group, o.agentMain, env);
  const dir = group.tempDir('bmcfleet-bench-bare-');
  try {
    // Warm-up (not counted): the agent creates the disk; both sides load QEMU and firmware from disk.
    progress('node runtime: warm-up power-on (creates the VM disk)');
    const warm = await agentBoot(agent, { untilFirstByte: true });
    if (warm.error) throw new Error(`warm-up power-on failed: ${warm.error}`);
    const line: QemuCommandLine | undefined = qemuCommandLineFromLog(agent.output());
    if (!line) throw new Error('the agent logged no "QEMU command line" (DEBUG=true)');
    report.commandLine = line;
    const qmpSocket = join(dir, 'qmp.sock');
    const bare = bareQemuArgs(line.args, qmpSocket);
    report.bareArgs = bare;
    progress('node runtime: warm-up bare QEMU (and query-pci)');
    const warmBare = await runBareQemu(group, line.binary, bare, {
      timeoutMs: FIRST_BYTE_TIMEOUT_MS, untilFirstByte: true,
      whileRunning: async () => { report.pciDevices = await queryPci(qmpSocket).catch(() => undefined) ?? []; },
    });
    if (warmBare.error) throw new Error(`warm-up bare QEMU failed: ${warmBare.error}`);

    for (let i = 0; i < o.runs; i++) {
      if (Date.now() > o.deadline) { report.bootsCut = `--max-seconds reached after ${i} of ${o.runs} runs`; break; }
      // Alternate which side goes first, so neither always follows the other's teardown.
      const order = i % 2 === 0 ? ['agent', 'bare'] as const : ['bare', 'agent'] as const;
      for (const side of order) {
        if (side === 'agent') {
          const t = await agentBoot(agent, {});
          const now = qemuCommandLineFromLog(agent.output());
          agentRuns.push(now && JSON.stringify(now.args) !== JSON.stringify(line.args) ? { ...t, error: `${t.error ? `${t.error}; ` : ''}the command line changed` } : t);
          progress(`  run ${i + 1} agent: first byte ${t.firstByteMs?.toFixed(0) ?? '–'} ms, READY ${t.readyMs?.toFixed(0) ?? '–'} ms${t.error ? ` (${t.error})` : ''}`);
        } else {
          const t = await runBareQemu(group, line.binary, bare, { timeoutMs: BOOT_TIMEOUT_MS });
          bareRuns.push(t);
          progress(`  run ${i + 1} bare:  first byte ${t.firstByteMs?.toFixed(0) ?? '–'} ms, READY ${t.readyMs?.toFixed(0) ?? '–'} ms${t.error ? ` (${t.error})` : ''}`);
        }
      }
    }
    // The SOL window's accumulate interval at its minimum: how much of the gap is SOL's own batching.
    if (Date.now() < o.deadline) {
      progress(`node runtime: ${o.runs} power-ons to the first byte with SOL parameter 3 at 5 ms / 1 character`);
      for (let i = 0; i < o.runs; i++) {
        const t = await agentBoot(agent, { untilFirstByte: true, accumulate: FAST_SOL });
        fastSolRuns.push(t);
        progress(`  run ${i + 1}: first byte ${t.firstByteMs?.toFixed(0) ?? '–'} ms${t.error ? ` (${t.error})` : ''}`);
      }
    }
    // The same agent, powered off again after every boot above.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const after = readProcessMemory(agent.pid);
    if (after) report.agentMemoryAfterBoots = after;
  } catch (err) {
    report.bootSkipped = (err as Error).message;
  } finally {
    await agent.stop();
    group.removeDir(dir);
  }
}

export type { ContainerMemory };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
