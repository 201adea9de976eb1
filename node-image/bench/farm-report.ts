/** The farm section of docs/benchmarks.md (farm-bench.ts measures it). */
import type { FarmBenchReport, FarmRun, SweepFigures } from './farm-bench';
import { formatCount, formatMs } from './stats';

export const FARM_RSS_TARGET_MIB = 400;
export const FARM_START_TARGET_MS = 10_000;
export const FARM_IDLE_CPU_TARGET_PERCENT = 1;
export const FARM_LATENCY_RATIO_TARGET = 1.1;
export const LARGE_RSS_TARGET_MIB = 3 * 1024;
export const LARGE_SWEEP_TARGET = 800;

/** Cores of the machines the targets are set for (the sweep target must fit both sides in them). */
export const SWEEP_CORES = 2;

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

/** Sessions/s that `cores` otherwise idle cores allow when farm and client together take `usPerSession` of CPU. */
export function cpuCap(usPerSession: number, cores = SWEEP_CORES): number {
  return usPerSession > 0 ? (cores * 1e6) / usPerSession : 0;
}

/** "1,020 µs farm + 610 µs client = 1,630 µs, at most 1,227 sessions/s on 2 idle cores". */
export function sweepCpuText(s: SweepFigures): string {
  const both = s.farmCpuUsPerSession + s.clientCpuUsPerSession;
  return `${formatCount(Math.round(s.farmCpuUsPerSession))} µs farm + ${formatCount(Math.round(s.clientCpuUsPerSession))} µs client = ${formatCount(Math.round(both))} µs, at most ${formatCount(Math.round(cpuCap(both)))} sessions/s on ${SWEEP_CORES} idle cores`;
}
const verdict = (met: boolean): string => (met ? 'met' : '**not met**');

function runRows(r: FarmRun): string[] {
  return [
    `| BMCs, worker processes | ${formatCount(r.bmcs)}, ${r.workers} |`,
    `| Start (spawn to "farm listening"), fresh | ${formatMs(r.firstStartMs)} |`,
    ...(r.restartMs === undefined ? [] : [`| Start from saved state (${formatCount(r.restoredState ?? 0)} BMCs' state restored) | ${formatMs(r.restartMs)} |`]),
    `| RSS of the farm (all its processes), idle${r.restartMs === undefined ? ', before the sweep' : ', restarted from the state the sweep left'} | ${mib(r.rssKiB)} (${(r.rssKiB / r.bmcs).toFixed(1)} KiB per BMC) |`,
    ...(r.idleCpuPercent === undefined ? [] : [`| Idle CPU (10 s after 5 s settling) | ${r.idleCpuPercent.toFixed(2)} % of a core |`]),
    `| Sweep: a full RMCP+ session per BMC (project client, ${r.sweep.concurrency} at a time) | ${formatCount(r.sweep.answered)} / ${formatCount(r.sweep.attempted)} answered, ${r.sweep.sessionsPerSecond.toFixed(0)} sessions/s (load average ${r.sweep.load[0].toFixed(1)} at its start, ${r.sweep.load[1].toFixed(1)} at its end) |`,
    `| CPU per swept session | ${sweepCpuText(r.sweep)} |`,
    ...(r.sweep.firstFailure ? [`| Sweep failures | ${r.sweep.firstFailure} |`] : []),
    `| RSS after the sweep | ${mib(r.rssAfterSweepKiB)} |`,
  ];
}

/** `measuredOn`: date and machine of this part's run (it may run alone, `--farm-only`). */
export function renderFarm(r: FarmBenchReport, measuredOn: string): string {
  const out: string[] = ['## Farm: many simulated BMCs in one process', '', `Measured ${measuredOn}.`, ''];
  out.push('`npm run farm` with FARM_BMCS BMCs at 127.90.0.1 onwards, each with its own RMCP+ socket on port 623,',
    'started with its state directory empty, swept (every BMC is woken and writes its state), then started again',
    'from the state that run saved; idle CPU and RSS are measured on the restarted farm. The sweep gives every BMC',
    'a session as the orchestrator opens one (suite 17: Open Session, RAKP 1 and 3, Set Session Privilege Level),',
    'one command (Get System GUID) and Close Session: six round trips; the client\'s sessions share one UDP socket',
    '(UdpHub), as a poller of many BMCs would. Every BMC rests before the sweep, so each session also wakes its BMC.',
    'Sessions/s depend on what else the machine runs (the load average is given); the CPU time',
    'per session, farm and client side, moves far less with it, and says what two otherwise idle cores allow.', '');
  const f = r.farm;
  const targets: string[] = [];
  if (f) {
    targets.push(`- **RSS ≤ ${FARM_RSS_TARGET_MIB} MiB for ${formatCount(f.bmcs)} BMCs**: ${mib(f.rssKiB)} — ${verdict(f.rssKiB / 1024 <= FARM_RSS_TARGET_MIB)}.`);
    const start = f.restartMs ?? f.firstStartMs;
    targets.push(`- **Start ≤ 10 s including saved state**: ${formatMs(start)} — ${verdict(start <= FARM_START_TARGET_MS)}.`);
    if (f.idleCpuPercent !== undefined) targets.push(`- **Idle CPU ≤ 1 % of a core**: ${f.idleCpuPercent.toFixed(2)} % — ${verdict(f.idleCpuPercent <= FARM_IDLE_CPU_TARGET_PERCENT)}.`);
    targets.push(`- **Sweep of every BMC with zero failures**: ${formatCount(f.sweep.answered)} / ${formatCount(f.sweep.attempted)} — ${verdict(f.sweep.answered === f.sweep.attempted)}.`);
  }
  if (r.latency) {
    const ratio = r.latency.farmOfOne.summary.median / r.latency.agent.summary.median;
    targets.push(`- **ipmitool median against a farm of one BMC within 10 % of one agent**: ${formatMs(r.latency.farmOfOne.summary.median)} against ${formatMs(r.latency.agent.summary.median)}, ratio ${ratio.toFixed(2)}× — ${verdict(ratio <= FARM_LATENCY_RATIO_TARGET)}.`);
    const sim = r.latency.ipmiSim;
    if (sim) {
      const simRatio = r.latency.agent.summary.median / sim.summary.median;
      const cpu = (t: typeof sim): string => (t.serverCpuMsPerRun === undefined ? '?' : `${t.serverCpuMsPerRun.toFixed(2)} ms`);
      targets.push(`- **ipmitool without -C (discovery + suite 17) against one agent no slower than ipmi_sim with -C 3**: ${formatMs(r.latency.agent.summary.median)} against ${formatMs(sim.summary.median)}, ratio ${simRatio.toFixed(2)}× — ${verdict(simRatio <= 1)}; server CPU per invocation ${cpu(r.latency.agent)} against ${cpu(sim)}.`);
    }
  }
  if (r.large) {
    const ls = r.large.sweep;
    targets.push(`- **${formatCount(r.large.bmcs)} BMCs ≤ 3 GiB**: ${mib(r.large.rssKiB)} idle, ${mib(r.large.rssAfterSweepKiB)} after the sweep — ${verdict(Math.max(r.large.rssKiB, r.large.rssAfterSweepKiB) / 1024 <= LARGE_RSS_TARGET_MIB)}.`);
    targets.push(`- **Sweep of all ${formatCount(r.large.bmcs)} with zero failures at ≥ ${LARGE_SWEEP_TARGET} sessions/s**: ${formatCount(ls.answered)} / ${formatCount(ls.attempted)} answered, ${ls.sessionsPerSecond.toFixed(0)} sessions/s at load average ${ls.load[0].toFixed(1)}–${ls.load[1].toFixed(1)} — ${verdict(ls.sessionsPerSecond >= LARGE_SWEEP_TARGET && ls.answered === ls.attempted)}; CPU per session ${sweepCpuText(ls)} — ${cpuCap(ls.farmCpuUsPerSession + ls.clientCpuUsPerSession) >= LARGE_SWEEP_TARGET ? `${LARGE_SWEEP_TARGET}/s fits` : `${LARGE_SWEEP_TARGET}/s does **not** fit`} in ${SWEEP_CORES} cores.`);
  }
  out.push(...targets, '');
  if (f) out.push('| | |', '|---|---|', ...runRows(f), '');
  else out.push(`The farm did not run: ${r.farmError ?? 'unknown error'}.`, '');
  out.push('### Memory per simulated BMC', '',
    'Peers run one process per BMC, as their users run them (ipmi_sim with a generated lan.conf; pyghmi\'s',
    '`fakebmc --port P`); their figure is the mean RSS of one such process.', '',
    '| BMC | Processes measured | Memory per BMC |', '|---|---|---|');
  if (f) out.push(`| bmcfleet farm (${formatCount(f.bmcs)} BMCs, one process tree) | ${f.workers} | ${(f.rssKiB / f.bmcs).toFixed(1)} KiB |`);
  for (const p of r.peers) out.push(`| ${p.name} | ${p.processes} | ${p.rssKiB === undefined ? `skipped: ${p.skipped}` : `${(p.rssKiB / 1024).toFixed(1)} MiB`} |`);
  out.push('');
  out.push('### `ipmitool power status`: one agent, a farm of one BMC, ipmi_sim', '',
    '`ipmitool -I lanplus -H 127.0.0.1 -p PORT -U admin -P password [-C 3] power status`, the rows interleaved. Without',
    '`-C`, ipmitool first asks Get Channel Cipher Suites and takes the best suite listed (17 here); ipmi_sim does not',
    'answer that request (ipmitool then waits about 10 s), so it runs with `-C 3`. Server CPU per run: the server',
    'process\'s CPU time (all threads) over the runs, per invocation.', '');
  if (r.latency) {
    out.push('| Server | Runs ok | Median | p90 | Server CPU per run |', '|---|---|---|---|---|');
    for (const t of [r.latency.agent, r.latency.farmOfOne, ...(r.latency.ipmiSim ? [r.latency.ipmiSim] : [])]) {
      out.push(`| ${t.target.label} | ${t.samples.length} / ${t.attempted} | ${formatMs(t.summary.median)} | ${formatMs(t.summary.p90)} | ${t.serverCpuMsPerRun === undefined ? '–' : `${t.serverCpuMsPerRun.toFixed(2)} ms`} |`);
    }
  } else out.push(`Skipped: ${r.latencySkipped ?? 'unknown'}.`);
  out.push('');
  if (r.large || r.largeError) {
    out.push('### Spread over worker processes (--farm-large)', '');
    if (r.large) out.push('| | |', '|---|---|', ...runRows(r.large), '');
    else out.push(`Did not run: ${r.largeError}.`, '');
  }
  return out.join('\n');
}

/** Replaces the farm section of an existing report, or inserts it before "## Reproduce". */
export function replaceFarmSection(doc: string, section: string): string {
  const start = doc.indexOf('\n## Farm: ');
  if (start >= 0) {
    const end = doc.indexOf('\n## ', start + 1);
    return `${doc.slice(0, start + 1)}${section.replace(/\n*$/, '\n')}${end < 0 ? '' : doc.slice(end)}`;
  }
  const at = doc.indexOf('\n## Reproduce\n');
  if (at < 0) return `${doc.replace(/\n*$/, '\n\n')}${section}`;
  return `${doc.slice(0, at + 1)}${section.replace(/\n*$/, '\n\n')}${doc.slice(at + 1)}`;
}
