/**
 * The fleet part of `npm run bench` (fleet-bench.ts), its pure side: what one timed run of 50 node
 * starts recorded, the totals and their ratio, and where an orchestrator create spends its time,
 * read from the orchestrator's own JSON log lines (Nest ConsoleLogger: `timestamp` in epoch ms).
 */
import { quantile, summarize, Summary } from './stats';

/** The target of the issue: the orchestrator's 50 nodes at most 1.3 times plain `docker run`. */
export const RATIO_TARGET = 1.3;

/** Between two measured runs: the previous run's removals (and their disk writes) fade out. */
export const BETWEEN_RUNS_MS = 5_000;

export type FleetSide = 'orchestrator' | 'docker';

export interface NodeTiming {
  readonly name: string;
  /** When the node was asked for (POST sent / `docker run` spawned), epoch ms. */
  readonly requestedAt: number;
  /** When that call returned successfully (201 / exit 0), epoch ms. */
  readonly launchedAt?: number;
  /** When the node's BMC first answered Get Chassis Status to the bench, epoch ms. */
  readonly answeredAt?: number;
  readonly error?: string;
}

export interface CreateRun {
  readonly side: FleetSide;
  /** Repetition number, from 1. */
  readonly repetition: number;
  /** Whether this side went first in its repetition. */
  readonly first: boolean;
  /** When the 50 calls were started, epoch ms. */
  readonly startedAt: number;
  readonly nodes: readonly NodeTiming[];
  /** Orchestrator runs: its FLEET_NAME (container names are `<fleetName>-<node>`). */
  readonly fleetName?: string;
  /** Orchestrator runs: its log lines during the run (JSON, debug level). */
  readonly log?: readonly string[];
  /** A failure of the whole run (set-up, tear-down). */
  readonly error?: string;
}

/** From the start of the run until every BMC answered; NaN when one never did. */
export function runTotalMs(run: CreateRun): number {
  if (run.error !== undefined || run.nodes.length === 0) return NaN;
  let last = -Infinity;
  for (const n of run.nodes) {
    if (n.answeredAt === undefined) return NaN;
    last = Math.max(last, n.answeredAt);
  }
  return last - run.startedAt;
}

/** The first failure of a run, for the report. */
export function runFailure(run: CreateRun): string | undefined {
  if (run.error !== undefined) return run.error;
  const failed = run.nodes.filter((n) => n.answeredAt === undefined);
  if (failed.length === 0) return undefined;
  return `${failed.length} of ${run.nodes.length} BMCs never answered; first: ${failed[0]!.name}: ${failed[0]!.error ?? 'no answer'}`;
}

export interface SideSummary {
  readonly side: FleetSide;
  /** Totals of the successful runs, in run order. */
  readonly totalsMs: readonly number[];
  readonly failedRuns: number;
  readonly medianMs: number;
}

export interface CreateComparison {
  readonly orchestrator: SideSummary;
  readonly docker: SideSummary;
  /** Median orchestrator total / median docker total; NaN when either side has no successful run. */
  readonly ratio: number;
  readonly met: boolean;
}

function sideSummary(runs: readonly CreateRun[], side: FleetSide): SideSummary {
  const mine = runs.filter((r) => r.side === side);
  const totals = mine.map(runTotalMs).filter((t) => Number.isFinite(t));
  return { side, totalsMs: totals, failedRuns: mine.length - totals.length, medianMs: summarize(totals).median };
}

export function compareCreateRuns(runs: readonly CreateRun[]): CreateComparison {
  const orchestrator = sideSummary(runs, 'orchestrator');
  const docker = sideSummary(runs, 'docker');
  const ratio = docker.medianMs > 0 ? orchestrator.medianMs / docker.medianMs : NaN;
  return { orchestrator, docker, ratio, met: Number.isFinite(ratio) && ratio <= RATIO_TARGET };
}

// ------------------------------------------------------------------ where the time goes

/** Moments of one orchestrator create, epoch ms, from its log (each undefined when not logged). */
export interface CreateTimeline {
  /** Event "created": the row and both leases are committed. */
  rowInserted?: number;
  /** DockerodeAdapter "creating container": volume created and checked, name looked up. */
  containerCreating?: number;
  containerCreated?: number;
  containerRunning?: number;
  /** Event "started": the row says running; the create now waits for the BMC. */
  rowRunning?: number;
}

interface LogLine {
  readonly timestamp: number;
  readonly message: string;
  readonly context?: string;
}

function parseLogLine(text: string): LogLine | undefined {
  const at = text.indexOf('{');
  if (at < 0) return undefined;
  try {
    const v = JSON.parse(text.slice(at)) as { timestamp?: unknown; message?: unknown; context?: unknown };
    if (typeof v.timestamp !== 'number' || typeof v.message !== 'string') return undefined;
    return { timestamp: v.timestamp, message: v.message, ...(typeof v.context === 'string' ? { context: v.context } : {}) };
  } catch {
    return undefined;
  }
}

/** What a log message says about which node's create (the first time each moment is seen). */
const MOMENTS: readonly { readonly key: keyof CreateTimeline; readonly pattern: RegExp; readonly by: 'node' | 'container' }[] = [
  { key: 'rowInserted', pattern: /^created: node (\S+) created with/, by: 'node' },
  { key: 'containerCreating', pattern: /^creating container (\S+) /, by: 'container' },
  { key: 'containerCreated', pattern: /^created container (\S+) /, by: 'container' },
  { key: 'containerRunning', pattern: /^container (\S+) running$/, by: 'container' },
  { key: 'rowRunning', pattern: /^started: container (\S+) running$/, by: 'container' },
];

/**
 * Per node name, the moments of its create found in the orchestrator's JSON log lines. Containers
 * are `<fleetName>-<node>`; lines of other nodes or other kinds are ignored.
 */
export function createTimelines(lines: readonly string[], fleetName: string): Map<string, CreateTimeline> {
  const out = new Map<string, CreateTimeline>();
  const prefix = `${fleetName}-`;
  for (const text of lines) {
    const line = parseLogLine(text);
    if (!line) continue;
    for (const m of MOMENTS) {
      const found = m.pattern.exec(line.message);
      if (!found) continue;
      let name = found[1]!;
      if (m.by === 'container') {
        if (!name.startsWith(prefix)) break;
        name = name.slice(prefix.length);
      }
      const t = out.get(name) ?? {};
      t[m.key] ??= line.timestamp;
      out.set(name, t);
      break;
    }
  }
  return out;
}

export interface PhaseDefinition {
  readonly label: string;
  readonly what: string;
}

/** The phases of an orchestrator create, in order; each ends where the next begins. */
export const ORCHESTRATOR_PHASES: readonly PhaseDefinition[] = [
  { label: 'request → row and leases committed', what: 'HTTP, validation, one SQLite transaction choosing the lowest free ports (retried when a concurrent create took them)' },
  { label: '→ container create sent', what: 'event row, image check (the engine is asked once), volume create + inspect, container lookup by name' },
  { label: 'container create', what: 'POST /containers/create' },
  { label: 'container start', what: 'POST /containers/{id}/start (networking, port publishing)' },
  { label: '→ row marked running', what: 'container id and state written, event row' },
  { label: '→ 201 received', what: 'the orchestrator polls the new BMC (IPMI session, Get Chassis Status, every 250 ms) and answers' },
  { label: '→ BMC answered the bench', what: 'the bench\'s own IPMI session to the node' },
];

export const DOCKER_PHASES: readonly PhaseDefinition[] = [
  { label: '`docker run` → exit', what: 'CLI start, volume + container create, start' },
  { label: '→ BMC answered the bench', what: 'the agent starts in the container; the bench polls every 250 ms' },
];

/** Durations (ms) of the phases of one node, NaN where a moment is missing. */
export function orchestratorPhases(node: NodeTiming, t: CreateTimeline | undefined): number[] {
  const moments = [
    node.requestedAt, t?.rowInserted, t?.containerCreating, t?.containerCreated, t?.containerRunning, t?.rowRunning, node.launchedAt, node.answeredAt,
  ];
  // "container start" runs from created to running: the start request is sent right after create.
  const out: number[] = [];
  for (let i = 1; i < moments.length; i++) {
    const a = moments[i - 1];
    const b = moments[i];
    out.push(a === undefined || b === undefined ? NaN : b - a);
  }
  return out;
}

export function dockerPhases(node: NodeTiming): number[] {
  const d = (a: number | undefined, b: number | undefined): number => (a === undefined || b === undefined ? NaN : b - a);
  return [d(node.requestedAt, node.launchedAt), d(node.launchedAt, node.answeredAt)];
}

export interface PhaseRow {
  readonly label: string;
  readonly what: string;
  readonly median: number;
  readonly p90: number;
  readonly max: number;
  /** Samples (nodes) with this phase measured. */
  readonly count: number;
}

export interface SideProfile {
  readonly side: FleetSide;
  readonly phases: readonly PhaseRow[];
  /** Median over runs of: start of the run → the last container running (orchestrator: its log; docker: the last `docker run` exit). */
  readonly lastContainerRunningMs: number;
  /** Median over runs of: the last container running → every BMC answered. */
  readonly tailMs: number;
}

function phaseRows(defs: readonly PhaseDefinition[], perNode: readonly number[][]): PhaseRow[] {
  return defs.map((def, i) => {
    const values = perNode.map((p) => p[i]!).filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
    return { ...def, median: quantile(values, 0.5), p90: quantile(values, 0.9), max: values.length ? values[values.length - 1]! : NaN, count: values.length };
  });
}

/** Where the time of one side's successful runs goes, pooled over their nodes. */
export function profileSide(runs: readonly CreateRun[], side: FleetSide): SideProfile {
  const mine = runs.filter((r) => r.side === side && Number.isFinite(runTotalMs(r)));
  const perNode: number[][] = [];
  const lastRunning: number[] = [];
  const tails: number[] = [];
  for (const run of mine) {
    const timelines = side === 'orchestrator' ? createTimelines(run.log ?? [], run.fleetName ?? '') : undefined;
    let last = -Infinity;
    for (const node of run.nodes) {
      if (timelines) {
        const t = timelines.get(node.name);
        perNode.push(orchestratorPhases(node, t));
        last = Math.max(last, t?.containerRunning ?? NaN);
      } else {
        perNode.push(dockerPhases(node));
        last = Math.max(last, node.launchedAt ?? NaN);
      }
    }
    if (Number.isFinite(last)) {
      lastRunning.push(last - run.startedAt);
      tails.push(runTotalMs(run) - (last - run.startedAt));
    }
  }
  return {
    side,
    phases: phaseRows(side === 'orchestrator' ? ORCHESTRATOR_PHASES : DOCKER_PHASES, perNode),
    lastContainerRunningMs: summarize(lastRunning).median,
    tailMs: summarize(tails).median,
  };
}

// ------------------------------------------------------------------ the nodes API

export interface LatencySummary extends Summary {
  readonly p95: number;
}

export function summarizeLatency(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return { ...summarize(sorted), p95: quantile(sorted, 0.95) };
}
