/** The fleet section of docs/benchmarks.md (fleet-bench.ts measures it). Pure. */
import {
  BETWEEN_RUNS_MS, compareCreateRuns, CreateRun, profileSide, RATIO_TARGET, runFailure, runTotalMs, SideProfile, summarizeLatency,
} from './fleet-analysis';
import { formatCount } from './stats';

export interface ListingResult {
  readonly nodes: number;
  /** Size of one response body. */
  readonly responseBytes?: number;
  /** One client, one request at a time: each request's wall time (ms). */
  readonly sequential?: { readonly samples: readonly number[]; readonly cpuMsPerRequest?: number };
  readonly concurrent?: {
    readonly clients: number;
    readonly requests: number;
    readonly latencies: readonly number[];
    readonly failures: number;
    readonly elapsedMs: number;
    readonly cpuMsPerRequest?: number;
  };
  readonly error?: string;
}

export interface FleetReport {
  /** Nodes per run. */
  readonly nodes: number;
  /** Repetitions per side asked for. */
  readonly runs: number;
  readonly image: string;
  readonly imageId?: string;
  readonly dockerVersion?: string;
  /** One `docker run` of the docker side, as an example for the report. */
  readonly dockerRunArgs: readonly string[];
  readonly orchestratorEnv: Readonly<Record<string, string>>;
  readonly createRuns: readonly CreateRun[];
  readonly createSkipped?: string;
  readonly createCut?: string;
  readonly listing?: ListingResult;
  readonly listingSkipped?: string;
  readonly cleanupProblems: readonly string[];
  readonly durationS: number;
}

const sec = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '–');
const msText = (v: number): string => (Number.isFinite(v) ? (v < 100 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`) : '–');
const verdict = (met: boolean): string => (met ? 'met' : '**not met**');
const SIDE_LABEL = { orchestrator: 'orchestrator (POST /api/v1/nodes)', docker: '`docker run`' } as const;

function phaseTable(p: SideProfile): string[] {
  return [
    '| Phase | What happens | Median | p90 | Max |',
    '|---|---|---|---|---|',
    ...p.phases.map((row) => `| ${row.label} | ${row.what} | ${msText(row.median)} | ${msText(row.p90)} | ${msText(row.max)} |`),
  ];
}

function renderCreate(r: FleetReport, line: (s?: string) => void): void {
  line(`### ${r.nodes} nodes: the orchestrator against plain \`docker run\``);
  line();
  if (r.createSkipped) {
    line(`Skipped: ${r.createSkipped}.`);
    line();
    return;
  }
  const c = compareCreateRuns(r.createRuns);
  line(`- **Target: ${r.nodes} nodes through the API at most ${RATIO_TARGET}× the time of ${r.nodes} plain \`docker run\`**: ` +
    `${sec(c.orchestrator.medianMs)} against ${sec(c.docker.medianMs)} (medians), ratio ${Number.isFinite(c.ratio) ? `${c.ratio.toFixed(2)}×` : '–'} — ${verdict(c.met)}.`);
  line();
  line(`Each run starts ${r.nodes} MACHINE=sim nodes of ${r.image}${r.imageId ? ` (${r.imageId.slice(7, 19)})` : ''} at once and ends when every node's BMC has answered`);
  line('Get Chassis Status in an RMCP+ session of the project\'s IPMI client (node-image/src/client; each node polled every');
  line('250 ms from the moment its own call returned). Orchestrator side: a fresh orchestrator (`node dist/src/main.js`, its own');
  line(`DATA_DIR, FLEET_NAME and port ranges, ${Object.entries(r.orchestratorEnv).map(([k, v]) => `${k}=${v}`).join(', ')}) gets ${r.nodes} concurrent`);
  line('`POST /api/v1/nodes {"name", "machine": "sim", "ipmiUser", "ipmiPassword"}`; each answers 201 once its BMC has answered');
  line(`the orchestrator. Docker side: ${r.nodes} concurrent \`docker run\` of the container the orchestrator makes (same environment,`);
  line('devices, capability, published ports and named /vm volume), e.g.:');
  line();
  line('```');
  line(`docker ${r.dockerRunArgs.join(' ')}`);
  line('```');
  line();
  line(`${r.runs} repetition${r.runs === 1 ? '' : 's'} per side, alternating which side goes first; each run's containers and volumes are removed, and`);
  line(`the next run waits ${BETWEEN_RUNS_MS / 1000} s.${r.dockerVersion ? ` Docker Engine ${r.dockerVersion}.` : ''}`);
  if (r.createCut) line(`Cut short: ${r.createCut}.`);
  line();
  line('| Repetition | Side | Went | BMCs answered | All answered after |');
  line('|---|---|---|---|---|');
  for (const run of r.createRuns) {
    const answered = run.nodes.filter((n) => n.answeredAt !== undefined).length;
    line(`| ${run.repetition} | ${SIDE_LABEL[run.side]} | ${run.first ? 'first' : 'second'} | ${answered} / ${r.nodes} | ${sec(runTotalMs(run))} |`);
  }
  line(`| **Median** | ${SIDE_LABEL.orchestrator} | | | **${sec(c.orchestrator.medianMs)}** |`);
  line(`| **Median** | ${SIDE_LABEL.docker} | | | **${sec(c.docker.medianMs)}** |`);
  line();
  const failures = r.createRuns.map((run) => [run, runFailure(run)] as const).filter(([, f]) => f !== undefined);
  for (const [run, f] of failures) line(`- Repetition ${run.repetition}, ${run.side}: ${f}.`);
  if (failures.length) line();

  const orchestrator = profileSide(r.createRuns, 'orchestrator');
  const dockerSide = profileSide(r.createRuns, 'docker');
  line('#### Where the time goes');
  line();
  line(`Until the last container was running: orchestrator ${sec(orchestrator.lastContainerRunningMs)}, \`docker run\` ${sec(dockerSide.lastContainerRunningMs)}; from then until every`);
  line(`BMC had answered: ${sec(orchestrator.tailMs)} and ${sec(dockerSide.tailMs)} (medians over the runs; for the orchestrator the moment the adapter logged`);
  line('the last container running, for docker the last `docker run` exit).');
  line();
  line('Per node, pooled over the successful runs, from the orchestrator\'s debug log (JSON lines with epoch-ms timestamps,');
  line('on the same clock as the bench):');
  line();
  for (const l of phaseTable(orchestrator)) line(l);
  line();
  line('The same for `docker run`:');
  line();
  for (const l of phaseTable(dockerSide)) line(l);
  line();
  if (!c.met && Number.isFinite(c.ratio)) {
    const before = orchestrator.lastContainerRunningMs - dockerSide.lastContainerRunningMs;
    const after = orchestrator.tailMs - dockerSide.tailMs;
    line(`The target is missed by ${sec(c.orchestrator.medianMs - RATIO_TARGET * c.docker.medianMs)}. Of the orchestrator's ${sec(c.orchestrator.medianMs - c.docker.medianMs)} more, ` +
      `${sec(before)} fall before the last container was running and ${sec(after)} after it (medians, so they need not add up).`);
    line();
  }
}

function renderListing(r: FleetReport, line: (s?: string) => void): void {
  const l = r.listing;
  line(`### GET /api/v1/nodes with ${l?.nodes ?? 200} nodes`);
  line();
  if (r.listingSkipped || !l) {
    line(`Skipped: ${r.listingSkipped ?? 'not run'}.`);
    line();
    return;
  }
  if (l.error) {
    line(`Failed: ${l.error}.`);
    line();
    return;
  }
  line(`${l.nodes} running sim nodes with both port leases and an event each, written into the migrated SQLite file of a`);
  line('stopped orchestrator; the orchestrator then runs with DOCKER_HOST at a socket where no engine listens, so its');
  line('start-up reconciliation cannot re-create their containers (the listing reads only the database). Keep-alive');
  line(`HTTP/1.1 from the bench process on the same machine; ${formatCount(l.responseBytes ?? NaN)} bytes of JSON per response.`);
  line();
  line('| Clients | Requests | Median | p95 | p99 | Max | Requests/s | Orchestrator CPU per request |');
  line('|---|---|---|---|---|---|---|---|');
  const cpu = (v: number | undefined): string => (v === undefined ? '–' : msText(v));
  if (l.sequential) {
    const s = summarizeLatency(l.sequential.samples);
    line(`| 1 (sequential) | ${s.count} | **${msText(s.median)}** | **${msText(s.p95)}** | ${msText(s.p99)} | ${msText(s.max)} | ${formatCount(s.count / (l.sequential.samples.reduce((a, b) => a + b, 0) / 1000))} | ${cpu(l.sequential.cpuMsPerRequest)} |`);
  }
  if (l.concurrent) {
    const k = l.concurrent;
    const s = summarizeLatency(k.latencies);
    line(`| ${k.clients} | ${s.count}${k.failures ? ` (+${k.failures} failed)` : ''} | ${msText(s.median)} | ${msText(s.p95)} | ${msText(s.p99)} | ${msText(s.max)} | **${formatCount(s.count / (k.elapsedMs / 1000))}** | ${cpu(k.cpuMsPerRequest)} |`);
  }
  line();
  line('Sequential requests/s is 1 / mean latency. CPU per request: the orchestrator process\'s CPU time (all threads) over the');
  line('requests, which depends less on the machine\'s other load than the latencies do.');
  line();
}

export function renderFleet(r: FleetReport): string {
  const out: string[] = [];
  const line = (s = ''): void => { out.push(s); };
  line('## Fleet: 50 nodes and the nodes API');
  line();
  line(`Measured by node-image/bench/fleet-bench.ts (part of \`npm run bench\`; \`--fleet-runs N\` sets the repetitions, 0 skips`);
  line(`the 50-node part) in ${Math.round(r.durationS)} s.`);
  line();
  renderCreate(r, line);
  renderListing(r, line);
  if (r.cleanupProblems.length) {
    line(`Clean-up problems: ${r.cleanupProblems.join('; ')}.`);
    line();
  }
  return out.join('\n');
}
