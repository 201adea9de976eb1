/** The node-runtime section of docs/benchmarks.md. Pure. */
import type { BootTiming, PowerOnPhases, QemuCommandLine } from './node-runtime-qemu';
import { describeDevices, devicesDiffer } from './node-runtime-qemu';
import type { ContainerMemory, ContainerProcess, ProcessMemory } from './node-runtime-memory';
import { summarize, Summary } from './stats';

export const FIRST_BYTE_RATIO_TARGET = 1.1;
export const AGENT_RSS_TARGET_MIB = 48;
export const NODE_TOTAL_TARGET_MIB = 65;
/** Starts of the agent and of Node's floor whose median the memory table shows. */
export const MEMORY_SAMPLES = 3;

export interface PciDevice {
  /** bus:slot.function, hexadecimal. */
  readonly address: string;
  readonly vendorDevice: string;
  readonly classCode: number;
  readonly description?: string;
  /** The -device id, empty for the machine's built-in devices. */
  readonly qdevId: string;
}

export interface StartupProbe {
  /** Modules of the agent in require.cache. */
  readonly modules: number;
  /** Their size on disk. */
  readonly sourceBytes: number;
  /** Node's public built-in modules loaded. */
  readonly builtins: readonly string[];
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  /** Functions V8 compiled with an optimizing tier during the start (--trace-opt). */
  readonly optimized: readonly string[];
}

export interface MemoryVariant {
  readonly flags: readonly string[];
  readonly memory: ProcessMemory;
}

export interface NodeRuntimeReport {
  readonly runs: number;
  readonly durationS: number;
  readonly qemuVersion?: string;
  /** The test guest's package versions. */
  readonly guest?: string;
  /** The agent's environment for the boots (beyond port, state directory and disk). */
  readonly agentEnv?: Readonly<Record<string, string>>;
  readonly bootSkipped?: string;
  readonly bootsCut?: string;
  readonly commandLine?: QemuCommandLine;
  readonly bareArgs?: readonly string[];
  readonly agentRuns: readonly BootTiming[];
  readonly bareRuns: readonly BootTiming[];
  /** Power-ons to the first byte only, with SOL parameter 3 at 5 ms / 1 character. */
  readonly fastSolRuns: readonly BootTiming[];
  readonly pciDevices?: readonly PciDevice[];
  readonly defaultNodeArgs: readonly string[];
  readonly floorMemory?: ProcessMemory;
  readonly agentMemory?: ProcessMemory;
  readonly agentMemoryAfterBoots?: ProcessMemory;
  readonly memoryVariants: readonly MemoryVariant[];
  readonly startup?: StartupProbe;
  readonly container?: ContainerMemory;
  readonly containerSkipped?: string;
}

const KIB_PER_MIB = 1024;
const mibOf = (kib: number | undefined): string => (kib === undefined || !Number.isFinite(kib) ? '–' : `${(kib / KIB_PER_MIB).toFixed(1)} MiB`);
const mibOfBytes = (b: number | undefined): string => (b === undefined || !Number.isFinite(b) ? '–' : `${(b / 1024 / 1024).toFixed(1)} MiB`);
const ms = (v: number): string => (Number.isFinite(v) ? `${Math.round(v)} ms` : '–');
const s1 = (v: number): string => (Number.isFinite(v) ? `${(v / 1000).toFixed(1)} s` : '–');
const ratio = (a: number, b: number): number => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const fmtRatio = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '–');
const code = (s: string): string => `\`${s.replace(/\|/g, '\\|')}\``;

export interface BootSummary {
  readonly ok: number;
  readonly attempted: number;
  readonly firstByte: Summary;
  readonly ready: Summary;
  readonly answered: Summary;
}

/** Medians and ranges over the runs without error. */
export function summarizeBoots(runs: readonly BootTiming[], firstByteOnly = false): BootSummary {
  const ok = runs.filter((r) => !r.error && r.firstByteMs !== undefined && (firstByteOnly || r.readyMs !== undefined));
  return {
    ok: ok.length,
    attempted: runs.length,
    firstByte: summarize(ok.map((r) => r.firstByteMs!)),
    ready: summarize(ok.map((r) => r.readyMs!)),
    answered: summarize(ok.filter((r) => r.answeredMs !== undefined).map((r) => r.answeredMs!)),
  };
}

export interface ContainerTotal {
  readonly agent?: ContainerProcess;
  /** RSS of every process in the container. */
  readonly processesKiB: number;
  /** The cgroup's charge that is not already in those RSS: page cache nobody maps, kernel memory. */
  readonly cgroupOtherBytes: number;
  /** The shim's anonymous memory (its file pages are the shim binary, shared by all shims). */
  readonly shimAnonKiB: number;
  /** processes + cgroup other + shim anonymous. */
  readonly totalMiB: number;
  /** What one more node adds on a host that already runs one: anonymous memory + cgroup other + shim anonymous. */
  readonly uniqueMiB: number;
}

export function containerTotal(c: ContainerMemory): ContainerTotal {
  const agent = c.processes.find((p) => /\bnode\b.*main\.js/.test(p.command) && !/^tini\b|\/tini\b/.test(p.command));
  const processesKiB = c.processes.reduce((a, p) => a + p.memory.rssKiB, 0);
  const anonKiB = c.processes.reduce((a, p) => a + (p.memory.anonKiB ?? p.memory.rssKiB), 0);
  const cgroupOtherBytes = Math.max(0, c.cgroupUsageBytes - c.cgroupAnonBytes - c.cgroupMappedFileBytes);
  const shimAnonKiB = c.shim?.memory.anonKiB ?? 0;
  return {
    ...(agent ? { agent } : {}),
    processesKiB,
    cgroupOtherBytes,
    shimAnonKiB,
    totalMiB: (processesKiB + shimAnonKiB) / KIB_PER_MIB + cgroupOtherBytes / 1024 / 1024,
    uniqueMiB: (anonKiB + shimAnonKiB) / KIB_PER_MIB + cgroupOtherBytes / 1024 / 1024,
  };
}

/** Median of each phase over the runs that have them. */
export function medianPhases(runs: readonly BootTiming[]): PowerOnPhases | undefined {
  const with_ = runs.filter((r) => !r.error && r.phases);
  if (with_.length === 0) return undefined;
  const med = (f: (p: PowerOnPhases) => number): number => summarize(with_.map((r) => f(r.phases!))).median;
  return { toSpawnMs: med((p) => p.toSpawnMs), spawnToRunMs: med((p) => p.spawnToRunMs), runToFirstByteMs: med((p) => p.runToFirstByteMs) };
}

/** Puts `section` in front of the document's "## Reproduce" heading (or at its end). */
export function insertBeforeReproduce(doc: string, section: string): string {
  const at = doc.indexOf('\n## Reproduce\n');
  if (at < 0) return `${doc.replace(/\n*$/, '\n\n')}${section}`;
  return `${doc.slice(0, at + 1)}${section.replace(/\n*$/, '\n\n')}${doc.slice(at + 1)}`;
}

function memoryRow(label: string, m: ProcessMemory | undefined): string {
  return `| ${label} | ${mibOf(m?.rssKiB)} | ${mibOf(m?.anonKiB)} | ${mibOf(m?.fileKiB)} | ${mibOf(m?.pssKiB)} | ${mibOf(m?.privateKiB)} |`;
}

const verdict = (met: boolean): string => (met ? 'met' : '**not met**');

export function renderNodeRuntime(r: NodeRuntimeReport): string {
  const out: string[] = [];
  const line = (x = ''): void => { out.push(x); };
  const agentB = summarizeBoots(r.agentRuns);
  const bareB = summarizeBoots(r.bareRuns);
  const firstRatio = ratio(agentB.firstByte.median, bareB.firstByte.median);
  const readyRatio = ratio(agentB.ready.median, bareB.ready.median);
  const fastB = summarizeBoots(r.fastSolRuns, true);
  const agentRssMiB = (r.agentMemory?.rssKiB ?? NaN) / KIB_PER_MIB;
  const total = r.container ? containerTotal(r.container) : undefined;
  const devices = describeDevices(r.defaultNodeArgs);
  const unexplained = devices.filter((d) => d.why.startsWith('unexpected'));

  line('## Node runtime: a MACHINE=qemu node');
  line();
  line(`Measured in the same run as the sections above, after them (another ${Math.round(r.durationS)} s). QEMU: ${r.qemuVersion ?? 'not installed'}, TCG`);
  line(`(ENABLE_KVM=false, as every test here: Linux guests hang under these machines' nested KVM, see docs/testing.md). Test guest: ${r.guest ?? '–'} (\`bash scripts/build-test-guest.sh\`).`);
  line(`\`npm run bench -- --boot-runs N\` sets the power-ons per side (here ${r.runs}); \`--boot-runs 0\` skips this part. This part builds the`);
  line('test guest when it is missing or stale (its script installs the host tools it needs and downloads Debian packages),');
  line('runs a node container when Docker and the image are there, and removes every process, directory and container it made.');
  line();
  line('### Targets');
  line();
  if (agentB.ok > 0 && bareB.ok > 0) {
    line(`- **Power-on → first guest byte on SOL no more than ${FIRST_BYTE_RATIO_TARGET}× the bare QEMU launch** (medians): ${ms(agentB.firstByte.median)} against ${ms(bareB.firstByte.median)}, ratio ${Number.isFinite(firstRatio) ? `${firstRatio.toFixed(3)}×` : '–'} — ${verdict(firstRatio <= FIRST_BYTE_RATIO_TARGET)}. To the guest's READY marker: ${s1(agentB.ready.median)} against ${s1(bareB.ready.median)}, ratio ${fmtRatio(readyRatio)}.`);
  } else {
    line(`- **Power-on → first guest byte on SOL, ratio ≤ ${FIRST_BYTE_RATIO_TARGET}**: not measured (${r.bootSkipped ?? 'no successful runs'}).`);
  }
  if (r.agentMemory) {
    line(`- **Agent of a powered-off node ≤ ${AGENT_RSS_TARGET_MIB} MiB RSS**: ${mibOf(r.agentMemory.rssKiB)} (Node's own floor here: ${mibOf(r.floorMemory?.rssKiB)}) — ${verdict(agentRssMiB <= AGENT_RSS_TARGET_MIB)}.`);
  } else {
    line(`- **Agent ≤ ${AGENT_RSS_TARGET_MIB} MiB RSS**: not measured.`);
  }
  if (total) {
    // Headline: what the container costs as Docker accounts it (the cgroup's charge without inactive page cache)
    // plus the host-side shim; the conservative sum, which also counts page-cache pages every node shares, follows.
    const dockerMiB = r.container?.dockerStatsBytes !== undefined ? r.container.dockerStatsBytes / 1024 / 1024 + total.shimAnonKiB / KIB_PER_MIB : Number.NaN;
    line(`- **Agent + container overhead ≤ ${NODE_TOTAL_TARGET_MIB} MiB** (powered-off node container, \`docker stats\` plus the containerd shim): ${dockerMiB.toFixed(1)} MiB — ${verdict(dockerMiB <= NODE_TOTAL_TARGET_MIB)}; one more node on the same host adds ${total.uniqueMiB.toFixed(1)} MiB; the conservative sum of every resident page of the container's processes (including shared page cache) is ${total.totalMiB.toFixed(1)} MiB (how it adds up: below).`);
  } else {
    line(`- **Agent + container overhead ≤ ${NODE_TOTAL_TARGET_MIB} MiB**: not measured (${r.containerSkipped ?? '?'}).`);
  }
  line(`- **QEMU gets only the devices it needs**: ${devices.filter((d) => d.option === '-device').length} \`-device\`s on a default node's command line, each with its reason below${unexplained.length ? `; **unexplained: ${unexplained.map((d) => d.value).join(', ')}**` : ''} — ${verdict(unexplained.length === 0)}.`);
  line();

  // ---- boots
  line('### Power-on → first guest byte on SOL, against the same QEMU launched bare');
  line();
  if (r.bootSkipped && agentB.attempted === 0) {
    line(`Skipped: ${r.bootSkipped}.`);
    line();
  } else {
    const env = r.agentEnv ? Object.entries(r.agentEnv).map(([k, v]) => `${k}=${k === 'VM_CDROM' ? '.cache/test-guest/guest.iso' : v}`).join(' ') : '';
    line('Both directly on this host, no container (the container adds no step between the agent and QEMU; this compares');
    line(`the agent's power-on path with QEMU alone). The agent: \`node node-image/bundle/main.js\` (the bundle the image ships) with ${env}, IPMI on a`);
    line('free 127.0.0.1 UDP port, a temporary VM_DISK and state directory; VM_BOOT=d boots the CD-ROM directly. The bench');
    line('opens an RMCP+ session (suite 3, the project\'s ClientSession), activates SOL, and then sends Chassis Control');
    line('power on in that session; the clock starts when the request leaves. "First byte" is the arrival of the first SOL');
    line('packet carrying guest output (SeaBIOS\'s first line), "READY" the packet completing `BMCFLEET-GUEST-READY`. Each SOL');
    line('packet is ACKed at once. After each boot: Chassis Control power off, and Get Chassis Status until it says off.');
    line();
    line('Bare: the exact argument array the agent passed to QEMU (its DEBUG log line "QEMU command line"), minus `-S`');
    line('(nobody sends `cont`), with `-serial stdio` instead of the socket to the agent and the QMP socket moved to a');
    line('temporary directory; the clock starts at spawn, "first byte" is the first read on QEMU\'s stdout. One warm-up');
    line(`each (not counted: it creates the disk and loads QEMU and the firmware into the page cache), then ${r.runs} runs each,`);
    line('interleaved, alternating which side goes first.');
    line();
    line('| | Runs ok | First byte, median | min | max | READY, median | min | max | Chassis Control answered, median |');
    line('|---|---|---|---|---|---|---|---|---|');
    line(`| Agent, SOL | ${agentB.ok} / ${agentB.attempted} | **${ms(agentB.firstByte.median)}** | ${ms(agentB.firstByte.min)} | ${ms(agentB.firstByte.max)} | **${s1(agentB.ready.median)}** | ${s1(agentB.ready.min)} | ${s1(agentB.ready.max)} | ${ms(agentB.answered.median)} |`);
    line(`| QEMU bare, stdio | ${bareB.ok} / ${bareB.attempted} | **${ms(bareB.firstByte.median)}** | ${ms(bareB.firstByte.min)} | ${ms(bareB.firstByte.max)} | **${s1(bareB.ready.median)}** | ${s1(bareB.ready.min)} | ${s1(bareB.ready.max)} | |`);
    line(`| **Ratio agent / bare** | | **${fmtRatio(firstRatio)}** | | | **${fmtRatio(readyRatio)}** | | | |`);
    if (fastB.attempted > 0) {
      line(`| Agent, SOL parameter 3 at 5 ms / 1 character (first byte only) | ${fastB.ok} / ${fastB.attempted} | ${ms(fastB.firstByte.median)} | ${ms(fastB.firstByte.min)} | ${ms(fastB.firstByte.max)} | | | | ${ms(fastB.answered.median)} |`);
      line(`| Ratio of that row / bare | | ${fmtRatio(ratio(fastB.firstByte.median, bareB.firstByte.median))} | | | | | | |`);
    }
    line();
    line('| Run | Agent first byte | Bare first byte | Agent READY | Bare READY |');
    line('|---|---|---|---|---|');
    const n = Math.max(r.agentRuns.length, r.bareRuns.length);
    for (let i = 0; i < n; i++) {
      const a = r.agentRuns[i];
      const b = r.bareRuns[i];
      const cell = (t: BootTiming | undefined, v: number | undefined, f: (x: number) => string): string => (t?.error ? `failed: ${t.error}` : v === undefined ? '–' : f(v));
      line(`| ${i + 1} | ${cell(a, a?.firstByteMs, ms)} | ${cell(b, b?.firstByteMs, ms)} | ${cell(a, a?.readyMs, s1)} | ${cell(b, b?.readyMs, s1)} |`);
    }
    line();
    if (r.bootsCut) line(`Cut short: ${r.bootsCut}.`);
    if (r.bootSkipped) line(`Stopped: ${r.bootSkipped}.`);
    const gap = agentB.firstByte.median - bareB.firstByte.median;
    const ph = medianPhases(r.agentRuns);
    line(`Where the agent's ${ms(gap)} more to the first byte go (medians over its runs; the agent's log clock, whole milliseconds):`);
    line();
    line('| Phase | Agent | Bare QEMU |');
    line('|---|---|---|');
    line(`| Chassis Control sent → agent logs "starting QEMU" (request crypto, power-state check, disk and firmware file checks) | ${ms(ph?.toSpawnMs ?? NaN)} | – |`);
    line(`| "starting QEMU" → "QEMU started": spawn paused (\`-S\`), QMP socket up (polled every 20 ms) and negotiated, serial socket connected, \`cont\` | ${ms(ph?.spawnToRunMs ?? NaN)} | – |`);
    line(`| "QEMU started" → first byte at the console: firmware until its first line, the serial socket, the SOL window, the encrypted SOL packet | ${ms(ph?.runToFirstByteMs ?? NaN)} | – |`);
    line(`| Spawn → first byte on stdout (QEMU's own start, then the firmware until its first line) | | ${ms(bareB.firstByte.median)} |`);
    line();
    line('The SOL window sends a packet once it holds "send threshold" characters or its oldest character has waited the');
    line('"accumulate interval" (SOL parameter 3; 96 characters / 60 ms by default, as the captured BMC answers `sol info`):');
    line('SeaBIOS\'s first line is shorter, so it waits. The 5 ms / 1 character row shows what is left without that');
    line('batching; `ipmitool sol set character-accumulate-level 1` and `character-send-threshold 1` set it on a node.');
    line('The READY ratio is what a user waits for: the boot itself dominates it.');
    line();
    if (r.commandLine) {
      line(`The agent's QEMU command line (\`${r.commandLine.binary}\`, one argument per line):`);
      line();
      line('```');
      for (const a of r.commandLine.args) line(a);
      line('```');
      line();
      if (r.bareArgs) {
        const diff = devicesDiffer(r.commandLine.args, r.bareArgs);
        line(`Bare, it differs only in: no \`-S\`; ${diff.length ? diff.map((d) => `\`${d}\``).join(', ') : 'nothing else'} (\`-serial stdio\` replaces the serial chardev).`);
        line();
      }
    }
  }

  // ---- memory
  line('### Memory of a powered-off node');
  line();
  line('The agent with MACHINE=qemu (ENABLE_KVM=false, VNC_PORT=none, nothing else set but its port, state directory and');
  line('VM_DISK), powered off, directly on the host with the bench\'s Node.js (see Machine), read from /proc/PID/status and');
  line(`/proc/PID/smaps_rollup 3 s after it started: the median of ${MEMORY_SAMPLES} starts, alternating with Node's floor,`);
  line('`node -e "setInterval(()=>{},1000)"`, measured the same way. VmRSS counts file pages (the node binary, shared');
  line('libraries) that every process mapping the same file shares; RssAnon and Private are what this process alone costs.');
  line();
  line('| Process | VmRSS | RssAnon | RssFile | Pss | Private |');
  line('|---|---|---|---|---|---|');
  out.push(memoryRow('Node floor (`setInterval`)', r.floorMemory));
  out.push(memoryRow('**Agent, powered off** (fresh start)', r.agentMemory));
  if (r.agentMemoryAfterBoots) out.push(memoryRow(`Agent after the ${r.agentRuns.length + 1} boots above, powered off again`, r.agentMemoryAfterBoots));
  for (const v of r.memoryVariants) out.push(memoryRow(`Agent with \`${v.flags.join(' ')}\``, v.memory));
  line();
  if (r.agentMemory && r.floorMemory) {
    const dAnon = (r.agentMemory.anonKiB ?? NaN) - (r.floorMemory.anonKiB ?? NaN);
    const dFile = (r.agentMemory.fileKiB ?? NaN) - (r.floorMemory.fileKiB ?? NaN);
    line(`Above Node's floor the agent has ${mibOf(dAnon)} more anonymous memory and ${mibOf(dFile)} more file pages.`);
    if (r.startup) {
      const p = r.startup;
      line(`At start it loads ${p.modules} of its own modules (${(p.sourceBytes / 1024).toFixed(0)} KiB of JavaScript) and these public built-ins: ${p.builtins.map((b) => `\`${b}\``).join(', ')}.`);
      line(`Its heap then: ${mibOfBytes(p.heapUsed)} used of ${mibOfBytes(p.heapTotal)}, ${mibOfBytes(p.external)} external.`);
      line(`Functions V8 optimized during the start (\`--trace-opt\`): ${p.optimized.length ? p.optimized.map((f) => `\`${f}\``).join(', ') : 'none'}.`);
    }
    line();
    if (Number.isFinite(agentRssMiB) && agentRssMiB > AGENT_RSS_TARGET_MIB) {
      line(`**Why the agent is above ${AGENT_RSS_TARGET_MIB} MiB, and what to change** (measurements of this run; the heap snapshot breakdown below`);
      line('was taken once by hand with `v8.writeHeapSnapshot()` 2 s after the start, Node 20):');
      line();
      line('- File pages of the node binary are most of the difference to the floor. The CommonJS loader resolves every');
      line('  `require` of the agent\'s modules through `path` functions; that many calls at start make V8 optimize them');
      line('  (`normalizeString` in the list above), which brings the optimizing compiler\'s machine code (part of the node');
      line('  binary) into memory: compare the `--no-opt` and `--lite-mode` rows. These pages are shared by every node');
      line('  process on a host (Pss is far below RSS), but they count in VmRSS. Change: ship the agent as **one bundled');
      line('  file** (one module: no per-`require` resolution at start; e.g. an esbuild step in the image build), rather than');
      line('  disabling the optimizer (`--no-opt`/`--lite-mode` would cost the IPMI request rate).');
      line('- Anonymous memory: the live heap is ~2 MiB above the floor\'s (snapshot: +0.9 MiB strings, +0.6 MiB code). The');
      line('  strings are mostly module sources: the compiled files keep their comments, and comments with `→`, `–`, `µ`');
      line('  make V8 store a whole module\'s source as UTF-16 (2 bytes per character). Change: `"removeComments": true`');
      line('  in node-image/tsconfig.build.json (measured by hand: −0.3 to −0.5 MiB RSS), which a bundle would also do.');
      line('- main.ts imports both machines: SimMachine is loaded (and compiled) in a MACHINE=qemu node. Change: load');
      line('  only the machine in use (`require` inside createMachine).');
      line('- Not worth it: `--max-semi-space-size=1` (tried by hand: heapTotal −2 MiB, RSS unchanged; the pages are not touched).');
      line();
    }
  }
  if (r.container) {
    const c = r.container;
    const t = total!;
    line(`**Container.** \`docker run -d --device /dev/net/tun --cap-add NET_ADMIN -e ENABLE_KVM=false -e VNC_PORT=none ${c.image}\``);
    line(`(image ${c.imageId.slice(7, 19)}, Docker ${c.dockerVersion}, cgroup v${c.cgroupVersion}), powered off, measured 3 s after the agent logged`);
    line('"BMC listening", then removed with its /vm volume. The image runs its own Node.js (see the Dockerfile), so the agent\'s');
    line('RSS differs from the host\'s.');
    line();
    line('| Part | Memory |');
    line('|---|---|');
    for (const p of c.processes) line(`| ${code(p.command)} (in the container) | ${mibOf(p.memory.rssKiB)} RSS (${mibOf(p.memory.anonKiB)} anonymous) |`);
    line(`| Cgroup charge not in those RSS (page cache no process maps, kernel memory) | ${mibOfBytes(t.cgroupOtherBytes)} |`);
    if (c.shim) line(`| ${code(c.shim.command.split(' ')[0] ?? 'containerd-shim')} (host side, one per container): anonymous memory | ${mibOf(t.shimAnonKiB)} (RSS ${mibOf(c.shim.memory.rssKiB)}: the rest is its binary, shared by every shim) |`);
    line(`| **Agent + container overhead** (the sum of the rows above) | **${t.totalMiB.toFixed(1)} MiB** |`);
    line(`| One more such node on a host that runs one already (anonymous memory, cgroup charge, shim anonymous) | ${t.uniqueMiB.toFixed(1)} MiB |`);
    line(`| For comparison: \`docker stats\` (the cgroup's usage without inactive page cache) | ${mibOfBytes(c.dockerStatsBytes)} |`);
    line(`| For comparison: cgroup usage / anonymous / mapped page cache | ${mibOfBytes(c.cgroupUsageBytes)} / ${mibOfBytes(c.cgroupAnonBytes)} / ${mibOfBytes(c.cgroupMappedFileBytes)} |`);
    line();
    line('`docker stats` is lower than the processes\' RSS because a cgroup is charged only for the pages it brought in: the');
    line('image\'s files (node, libraries) are usually in the page cache already, charged to whoever read them first. The');
    line('total is the conservative figure: every resident page of the container\'s processes, what else the cgroup was');
    line('charged, and the shim\'s own memory. The node binary\'s pages in it are shared by all nodes on a host (same image');
    line('layer, same page cache), hence the "one more node" row.');
    if (t.agent && (t.agent.memory.rssKiB / KIB_PER_MIB) > AGENT_RSS_TARGET_MIB) {
      line(`The agent in the container (the image's Node.js) is at ${mibOf(t.agent.memory.rssKiB)}, above ${AGENT_RSS_TARGET_MIB} MiB too; the changes above apply there as well.`);
    }
    line();
  } else {
    line(`**Container**: not measured (${r.containerSkipped ?? '?'}).`);
    line();
  }

  // ---- devices
  line('### QEMU gets only the devices it needs');
  line();
  line('A default node (design.md\'s defaults: VM_BOOT=c, no VM_CDROM, VNC on 5900, no VM_NETWORKS, BIOS; KVM when');
  line('/dev/kvm is usable), from `buildQemuArgs` (node-image/src/machine/qemu-args.ts). `-nodefaults` and `-no-user-config`');
  line('are on every command line: nothing comes from QEMU\'s default devices or the host\'s /etc/qemu.');
  line();
  line('| Option | Value | Why it is there |');
  line('|---|---|---|');
  for (const d of devices) line(`| \`${d.option}\` | ${code(d.value)} | ${d.why} |`);
  line();
  line('What the options change: VM_CDROM puts a medium into the (always present) CD-ROM drive; VM_BOOT_MODE=uefi (or an');
  line('EFI boot override) adds the two `-drive if=pflash` (OVMF code read-only, the node\'s NVRAM); each VM_NETWORKS');
  line('entry adds a `-device pcie-root-port` (its hot-plug slot) and, once its interface exists, one `-netdev tap` +');
  line('`-device virtio-net-pci` in that port; VNC_PORT=none drops `-vnc` (the VGA card stays); VM_BOOT_MENU_TIMEOUT or');
  line('boot device "bios" add `-boot menu=on,...`. One USB controller (for the virtual media USB stick), no sound, no floppy, no default NIC, no monitor');
  line('on a terminal, no parallel port.');
  line();
  if (r.pciDevices && r.pciDevices.length) {
    line('PCI devices of the running bench node\'s QEMU (QMP `query-pci` during the bare warm-up, same command line): the q35');
    line('machine\'s built-in ones (no id) and the command line\'s (with their id).');
    line();
    line('| Address | Vendor:device | Class | Device | id |');
    line('|---|---|---|---|---|');
    for (const p of r.pciDevices) line(`| ${p.address} | ${p.vendorDevice} | 0x${p.classCode.toString(16).padStart(4, '0')} | ${p.description ?? ''} | ${p.qdevId || '(built in)'} |`);
    line();
  }
  return out.join('\n');
}
