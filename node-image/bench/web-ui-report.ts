/** The web UI section of docs/benchmarks.md (pure). */
import { quantile } from './stats';
import { CHURN_NOTE, CHURN_PER_SECOND, CONSISTENT_WITHIN_MS, CHURN_SECONDS, INPUT_TARGET_MS, LOAD_TARGET_MS, MAX_IN_FLIGHT, WEB_UI_NODES, type WebUiReport } from './web-ui-bench';

export const WEB_UI_HEADING = `## Web UI: the fleet page with ${WEB_UI_NODES} nodes`;

const rate = (count: number, seconds: number): string => (seconds > 0 ? (count / seconds).toFixed(1) : '–');
const ms = (value: number): string => `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ms`;
const verdict = (met: boolean): string => (met ? 'met' : '**not met**');

export function renderWebUi(r: WebUiReport): string {
  const out: string[] = [WEB_UI_HEADING, ''];
  out.push('Measured by node-image/bench/web-ui-bench.ts (part of `npm run bench`; `--web-ui-runs N` sets the page loads, 0 skips');
  out.push('this part; `--only-web-ui` runs only it) in Debian\'s chromium driven by puppeteer-core.');
  if (r.ranAt !== undefined) out.push(`Run on ${r.ranAt.slice(0, 10)} (${r.ranAt.slice(11, 16)} UTC) on ${r.machine ?? 'an unnamed machine'}.`);
  out.push('');
  if (r.skipped !== undefined) {
    out.push(`Not measured: ${r.skipped}.`, '');
    return out.join('\n');
  }
  const sorted = [...r.loadsMs].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const c = r.churn;
  out.push(`- **Target: the fleet page lists all ${WEB_UI_NODES} nodes within ${LOAD_TARGET_MS / 1000} s of navigation start**: median ${ms(median)} over ${r.loadsMs.length} loads (slowest ${ms(sorted[sorted.length - 1] ?? NaN)}) — ${verdict(median < LOAD_TARGET_MS)}.`);
  if (c !== undefined) {
    out.push(`- **Target: responsive while power states change on the BMCs: a key on screen within ${INPUT_TARGET_MS} ms at p99**: p99 ${ms(c.keyToPaintMs.p99)} (worst ${ms(c.keyToPaintMs.max)}) over ${c.keys} keys during ${c.changes} power changes in ${c.settledSeconds.toFixed(1)} s — ${verdict(c.keyToPaintMs.p99 <= INPUT_TARGET_MS)}.`);
  }
  out.push('');
  out.push(`${WEB_UI_NODES} running sim nodes are rows written into the migrated SQLite file of a stopped orchestrator, each at the IPMI port of`);
  out.push(`one of ${WEB_UI_NODES} real sim BMCs (one farm process, FARM_PORTS on 127.0.0.1); the orchestrator then runs with DOCKER_HOST at a`);
  out.push('socket where no engine listens. Each load is a fresh browser context (no cache, no cookies) after one');
  out.push('warm-up load; the time is the page\'s own `performance.now()` (from navigation start) at the first frame whose table has');
  out.push(`every row. ${r.chromium === undefined ? '' : `Chromium ${r.chromium}.`}${r.loadAverage === undefined ? '' : ` The machine's load average (1 min, 2 cores) was ${r.loadAverage[0].toFixed(1)} at the start and ${r.loadAverage[1].toFixed(1)} at the end: other work shared the cores.`}`);
  out.push('');
  out.push('| Load | Time to all rows |', '|---|---|');
  r.loadsMs.forEach((value, index) => out.push(`| ${index + 1} | ${ms(value)} |`));
  out.push(`| **Median** | **${ms(median)}** |`, '');
  if (c !== undefined) {
    out.push(CHURN_NOTE, '');
    const probes = [...c.probeMs].sort((a, b) => a - b);
    out.push('| Measure | Value |', '|---|---|');
    const kept = c.seconds <= CHURN_SECONDS * 1.05 && c.skipped === 0;
    out.push(`| power changes asked by the ticks | ${c.asked} in ${c.seconds.toFixed(1)} s (${rate(c.asked - c.skipped, c.seconds)} a second started${c.skipped > 0 ? `; **${c.skipped} not started**: ${MAX_IN_FLIGHT} unanswered already` : ''})${kept ? '' : ` — **the stated ${CHURN_PER_SECOND} a second for ${CHURN_SECONDS} s was not kept**`} |`);
    out.push(`| power changes made on the BMCs (probe included) | ${c.changes}, the last answered ${c.settledSeconds.toFixed(1)} s after the first tick (${rate(c.changes, c.settledSeconds)} a second); ${c.busy} more answered 0xC0 (busy), ${c.unanswered} not answered |`);
    out.push(`| key → next paint (Event Timing) p50 / p99 / max, ${c.keys} keys | ${ms(c.keyToPaintMs.p50)} / ${ms(c.keyToPaintMs.p99)} / ${ms(c.keyToPaintMs.max)} |`);
    out.push(`| page timer lateness p50 / p99 / max | ${ms(c.lagMs.p50)} / ${ms(c.lagMs.p99)} / ${ms(c.lagMs.max)} |`);
    out.push(`| long tasks (> 50 ms) / longest | ${c.longTasks} / ${c.longTasks === 0 ? '–' : ms(c.longestTaskMs)} |`);
    out.push(`| probe node: Chassis Control answered → shown, median / max | ${ms(quantile(probes, 0.5))} / ${ms(probes[probes.length - 1] ?? NaN)}${c.probesMissed > 0 ? ` (**${c.probesMissed} not shown within 30 s**)` : ''} |`);
    out.push(`| page equals every BMC's power after the churn | ${c.consistentAfterMs === null ? `**no**, not within ${CONSISTENT_WITHIN_MS / 1000} s` : `yes, all rows, ${ms(c.consistentAfterMs)} after the last change was answered`} |`, '');
  }
  return out.join('\n');
}

/** Replaces the web UI section of a report (or inserts it before "## Reproduce"). */
export function replaceWebUiSection(doc: string, section: string, insert: (doc: string, section: string) => string): string {
  const start = doc.indexOf(`\n${WEB_UI_HEADING}\n`);
  if (start < 0) return insert(doc, section);
  const next = doc.indexOf('\n## ', start + 1);
  const end = next < 0 ? doc.length : next + 1;
  return `${doc.slice(0, start + 1)}${section.replace(/\n*$/, '\n\n')}${doc.slice(end)}`;
}
