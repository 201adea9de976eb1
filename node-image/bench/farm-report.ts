/** The farm section of docs/benchmarks.md (farm-bench.ts measures it). */
import type { FarmBenchReport, FarmRun } from './farm-bench';
import { formatCount, formatMs } from './stats';

export const FARM_RSS_TARGET_MIB = 400;
export const FARM_START_TARGET_MS = 10_000;
export const FARM_IDLE_CPU_TARGET_PERCENT = 1;
export const FARM_LATENCY_RATIO_TARGET = 1.1;
export const LARGE_RSS_TARGET_MIB = 3 * 1024;
export const LARGE_SWEEP_TARGET = 800;

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
const verdict = (met: boolean): string => (met ? 'met' : '**not met**');

function runRows(r: FarmRun): string[] {
  return [
    `| BMCs, worker processes | ${formatCount(r.bmcs)}, ${r.workers} |`,
    `| Start (spawn to "farm listening"), fresh | ${formatMs(r.firstStartMs)} |`,
    ...(r.restartMs === undefined ? [] : [`| Start from saved state (${formatCount(r.restoredState ?? 0)} BMCs' state restored) | ${formatMs(r.restartMs)} |`]),
    `| RSS of the farm (all its processes), idle${r.restartMs === undefined ? ', before the sweep' : ', restarted from the state the sweep left'} | ${mib(r.rssKiB)} (${(r.rssKiB / r.bmcs).toFixed(1)} KiB per BMC) |`,
    ...(r.idleCpuPercent === undefined ? [] : [`| Idle CPU (10 s after 5 s settling) | ${r.idleCpuPercent.toFixed(2)} % of a core |`]),
    `| Sweep: a full RMCP+ session per BMC (project client, ${r.sweep.concurrency} at a time) | ${formatCount(r.sweep.answered)} / ${formatCount(r.sweep.attempted)} answered, ${r.sweep.sessionsPerSecond.toFixed(0)} sessions/s |`,
    ...(r.sweep.firstFailure ? [`| Sweep failures | ${r.sweep.firstFailure} |`] : []),
    `| RSS after the sweep | ${mib(r.rssAfterSweepKiB)} |`,
  ];
}

/** `measuredOn`: date and machine of this part's run (it may run alone, `--farm-only`). */
export function renderFarm(r: FarmBenchReport, measuredOn: string): string {
  const out: string[] = ['## Farm: many simulated BMCs in one process', '', `Measured ${measuredOn}.`, ''];
  out.push('`npm run farm` with FARM_BMCS BMCs at 127.90.0.1 onwards, each with its own RMCP+ socket on port 623,',
    'started with its state directory empty, swept (every BMC is woken and writes its state), then started again',
    'from the state that run saved; idle CPU and RSS are measured on the restarted farm. The sweep opens a session',
    '(suite 17), asks Get Device ID and Get System GUID and closes it, on every BMC.', '');
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
    targets.push(`- **${formatCount(r.large.bmcs)} BMCs ≤ 3 GiB**: ${mib(r.large.rssKiB)} — ${verdict(r.large.rssKiB / 1024 <= LARGE_RSS_TARGET_MIB)}; sweep ${r.large.sweep.sessionsPerSecond.toFixed(0)} sessions/s with ${r.large.sweep.attempted - r.large.sweep.answered} failures — ${verdict(r.large.sweep.sessionsPerSecond >= LARGE_SWEEP_TARGET && r.large.sweep.answered === r.large.sweep.attempted)}.`);
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
