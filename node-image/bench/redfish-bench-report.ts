/** The Redfish section of docs/benchmarks.md (redfish-bench.ts measures it). Pure. */
import { REDFISH_RATIO_TARGET, SYSTEM_PATH, type RedfishBenchReport, type RedfishCaseResult } from './redfish-bench';
import { formatCount, formatMs } from './stats';

export const REDFISH_SECTION_TITLE = '## Redfish: the agent against a bare HTTPS server';

export interface RedfishSectionContext {
  readonly date: string;
  readonly machine: string;
  readonly seconds: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * The ratio of CPU per request, agent / floor, in each run (the two sides of a run are measured back to
 * back, so they share the machine's load), and its median over the runs.
 */
export function redfishRatio(runs: readonly RedfishCaseResult[]): { agentUs: number; floorUs: number; ratio: number; perRun: number[] } {
  const perRun: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const agent = runs.slice(i, i + 2).find((r) => r.server === 'agent')?.serverCpuUsPerRequest;
    const floor = runs.slice(i, i + 2).find((r) => r.server === 'floor')?.serverCpuUsPerRequest;
    if (agent !== undefined && floor !== undefined) perRun.push(agent / floor);
  }
  const cpu = (side: 'agent' | 'floor'): number => median(runs.filter((r) => r.server === side && r.serverCpuUsPerRequest !== undefined).map((r) => r.serverCpuUsPerRequest!));
  return { agentUs: cpu('agent'), floorUs: cpu('floor'), ratio: median(perRun), perRun };
}

export function renderRedfish(r: RedfishBenchReport, ctx: RedfishSectionContext): string {
  const out: string[] = [];
  const line = (x = ''): void => { out.push(x); };
  line(REDFISH_SECTION_TITLE);
  line();
  line(`Measured by node-image/bench/redfish-bench.ts (part of \`npm run bench\`; \`npm run bench -- --only-redfish\` runs this part`);
  line(`alone and rewrites only this section) on ${ctx.date}, in ${ctx.seconds} s. Machine: ${ctx.machine}.`);
  line();
  if (r.error) {
    line(`Not measured: ${r.error}`);
    line();
    return out.join('\n');
  }
  const { agentUs, floorUs, ratio, perRun } = redfishRatio(r.runs);
  const met = ratio <= REDFISH_RATIO_TARGET;
  line(`- **Target: the agent's CPU per \`GET ${SYSTEM_PATH}\` at most ${REDFISH_RATIO_TARGET}× a bare Node.js HTTPS server's answering the same bytes**:`);
  line(`  ${agentUs.toFixed(1)} µs against ${floorUs.toFixed(1)} µs (medians); ratio ${ratio.toFixed(2)}× (median of the runs' ratios ${perRun.map((x) => `${x.toFixed(2)}×`).join(', ')}) — ${met ? 'met' : '**not met**'}.`);
  line();
  line(`${formatCount(r.requests)} requests per run over ${r.connections} keep-alive TLS connections (X-Auth-Token of one session), ${r.repeat} runs per`);
  line(`server, interleaved, alternating which goes first, after 50 warm-up requests per connection. Each server is one Node.js`);
  line(`process${r.pinned ? ` pinned to one CPU (${r.pinned})` : ' (taskset missing: not pinned)'}; the client runs in the bench process. The bare server`);
  line(`(bare-https-server.ts) answers every request with the status, headers and ${formatCount(r.responseBytes)}-byte body the agent sent,`);
  line('with the same certificate and server timeouts. CPU per request: the server process\'s CPU time (all threads) over the run.');
  line();
  line('What the agent does beyond the floor per request: route, check the session and its user\'s role, read the power state');
  line('and the boot override (live, every request), and, while they are what they were at the last answer, send that answer');
  line('again: its ETag, headers and JSON text were made once (answer-memo.ts; headers and body go out in one write). That');
  line('service work takes about 3 µs per request in a tight loop. Most of the rest is the agent process itself: the agent\'s');
  line('HTTPS server answering a fixed, prepared answer measured 1.26× and 1.33× the floor in two runs under similar load.');
  line();
  line('| Run | Server | Requests/s | Server CPU per request | Failed |');
  line('|---|---|---|---|---|');
  r.runs.forEach((x, i) => line(`| ${Math.floor(i / 2) + 1} | ${x.server === 'agent' ? 'bmcfleet agent' : 'bare HTTPS server'} | ${formatCount(Math.round(x.requestsPerSecond))} | ${x.serverCpuUsPerRequest?.toFixed(1) ?? '?'} µs | ${x.failures} |`));
  line();
  if (r.sushy && 'error' in r.sushy) {
    line(`sushy sequence not measured: ${r.sushy.error}`);
  } else if (r.sushy) {
    const s = r.sushy;
    line(`sushy (Debian's python3-sushy): log in (service root + session), GET the System, Reset (ForceOn and ForceOff in`);
    line(`turn), ${s.iterations} times in one python process (its start is not counted), against the agent above:`);
    line();
    line('| Step | Median | p90 | Min | Max |');
    line('|---|---|---|---|---|');
    for (const [name, x] of [['Login', s.login], ['GET System', s.getSystem], ['Reset', s.reset], ['**Sequence**', s.total]] as const) {
      line(`| ${name} | ${formatMs(x.median)} | ${formatMs(x.p90)} | ${formatMs(x.min)} | ${formatMs(x.max)} |`);
    }
  }
  line();
  return out.join('\n');
}

/** Replaces the Redfish section of `doc` (or inserts it before Reproduce). */
export function replaceRedfishSection(doc: string, section: string): string {
  const start = doc.indexOf(`\n${REDFISH_SECTION_TITLE}\n`);
  const body = section.replace(/\n*$/, '\n\n');
  if (start >= 0) {
    const next = doc.indexOf('\n## ', start + 1 + REDFISH_SECTION_TITLE.length);
    return `${doc.slice(0, start + 1)}${body}${next >= 0 ? doc.slice(next + 1) : ''}`;
  }
  const at = doc.indexOf('\n## Reproduce\n');
  if (at < 0) return `${doc.replace(/\n*$/, '\n\n')}${body}`;
  return `${doc.slice(0, at + 1)}${body}${doc.slice(at + 1)}`;
}
