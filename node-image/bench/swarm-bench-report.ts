/**
 * The Swarm section of docs/benchmarks.md (swarm-bench.ts measures it): 12 QEMU nodes created through
 * the Swarm runtime against the same services created with `docker service create` by hand. Pure.
 */
import { formatMs } from './stats';

export const SWARM_SECTION_TITLE = '## Swarm: 12 QEMU nodes through the Swarm runtime against `docker service create`';
/** Issue target: the adapter's time to 12 running nodes at most this multiple of the hand-made services'. */
export const SWARM_RATIO_TARGET = 1.3;
export const SWARM_NODES = 12;
export const DEFAULT_SWARM_RUNS = 3;

export const SWARM_OPTIONS_HELP = [
  `--swarm-runs N    rounds per side of the Swarm part (default ${DEFAULT_SWARM_RUNS}; 0 skips it): ${SWARM_NODES} QEMU nodes on a 3-host Docker-in-Docker swarm`,
  '--only-swarm       measure only the Swarm part; rewrite only its section of docs/benchmarks.md',
];

export type SwarmSide = 'runtime' | 'cli';

/** One round: one side creates the 12 nodes; times from the round's start (ms). */
export interface SwarmRound {
  readonly side: SwarmSide;
  /** Per node: its service's task runs (healthy) and its BMC answers at the host's address. */
  readonly readyMs: readonly number[];
  /** Per node: the create call or command returned (the runtime's ensure returns once the task runs). */
  readonly createdMs: readonly number[];
  /** Nodes that never became ready within the bound, with the reason. */
  readonly failures: readonly string[];
}

export interface SwarmBenchOptions {
  readonly repoRoot: string;
  readonly image: string;
  readonly runs: number;
  readonly progress: (msg: string) => void;
}

export interface SwarmBenchResult {
  readonly skipped?: string;
  readonly image?: string;
  readonly engine?: string;
  readonly hosts?: number;
  /** What the harness's start-up phases took (ms). */
  readonly harnessMs?: Record<string, number>;
  readonly rounds: readonly SwarmRound[];
  /** The `docker service create` command of one node, as the bench ran it (for the report). */
  readonly cliExample?: string;
}

/** What run-bench loads from the bundled swarm-bench.js. */
export interface SwarmBenchModule {
  runSwarmBench(o: SwarmBenchOptions): Promise<SwarmBenchResult>;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A round's time: until its last node was ready (NaN when a node never was). */
export function roundMs(r: SwarmRound): number {
  return r.failures.length > 0 || r.readyMs.length === 0 ? NaN : Math.max(...r.readyMs);
}

/**
 * Median round time per side and their ratio (runtime / cli), plus the ratio within each pair of
 * rounds run back to back (rounds 1-2, 3-4, …), which share the machine's load.
 */
export function swarmRatio(rounds: readonly SwarmRound[]): { runtimeMs: number; cliMs: number; ratio: number; perPair: number[] } {
  const of = (side: SwarmSide): number[] => rounds.filter((r) => r.side === side).map(roundMs).filter((x) => !Number.isNaN(x));
  const perPair: number[] = [];
  for (let i = 0; i + 1 < rounds.length; i += 2) {
    const pair = rounds.slice(i, i + 2);
    const a = pair.find((r) => r.side === 'runtime');
    const b = pair.find((r) => r.side === 'cli');
    if (a && b && !Number.isNaN(roundMs(a)) && !Number.isNaN(roundMs(b))) perPair.push(roundMs(a) / roundMs(b));
  }
  const runtimeMs = median(of('runtime'));
  const cliMs = median(of('cli'));
  return { runtimeMs, cliMs, ratio: runtimeMs / cliMs, perPair };
}

export interface SwarmSectionContext {
  readonly date: string;
  readonly machine: string;
  readonly seconds: number;
}

export function renderSwarm(r: SwarmBenchResult, ctx: SwarmSectionContext): string {
  const out: string[] = [];
  const line = (x = ''): void => { out.push(x); };
  line(SWARM_SECTION_TITLE);
  line();
  line('Measured by node-image/bench/swarm-bench.ts (part of `npm run bench`; `npm run bench -- --only-swarm` runs this part');
  line(`alone and rewrites only this section) on ${ctx.date}, in ${ctx.seconds} s. Machine: ${ctx.machine}.`);
  line();
  if (r.skipped) {
    line(`Not measured: ${r.skipped}`);
    line();
    return out.join('\n');
  }
  const { runtimeMs, cliMs, ratio, perPair } = swarmRatio(r.rounds);
  const met = ratio <= SWARM_RATIO_TARGET;
  line(`- **Target: creating ${SWARM_NODES} QEMU nodes through the Swarm runtime takes at most ${SWARM_RATIO_TARGET}× the same services created with`);
  line(`  \`docker service create\` by hand**: ${formatMs(runtimeMs)} against ${formatMs(cliMs)} (medians of the rounds); ratio ${ratio.toFixed(2)}×`);
  line(`  (within each pair of rounds run back to back: ${perPair.map((x) => `${x.toFixed(2)}×`).join(', ') || 'none'}) — ${Number.isNaN(ratio) ? '**not measured**' : met ? 'met' : '**not met**'}.`);
  line();
  line(`A swarm of ${r.hosts ?? 3} Docker-in-Docker hosts on this machine (test/support/swarm-harness.ts; inner engines ${r.engine ?? '?'}),`);
  line(`image ${r.image ?? '?'} loaded on each. A round creates ${SWARM_NODES} QEMU nodes (MACHINE=qemu under TCG, 256 MiB, powered off at start,`);
  line('four per host) and ends when every node is ready: its task runs (swarm counts it running once the image\'s health check');
  line('passed) and its BMC answers Get Channel Authentication Capabilities at its host\'s address. Runtime rounds call');
  line(`SwarmNodeRuntime.ensure for the ${SWARM_NODES} nodes at once (it picks the hosts and returns when the task runs). CLI rounds run`);
  line(`${SWARM_NODES} \`docker service create --detach\` commands at once, each pinned to the host the runtime would pick, with the same`);
  line('image, environment, capabilities, volume, host-mode ports, health check, limits, restart and log settings, then poll');
  line('`docker service ls` every 500 ms until each shows 1/1 (the runtime polls its tasks every 500 ms too). Both sides probe the');
  line('BMCs the same way. Rounds alternate sides (which goes first alternates too); between rounds every service, container and');
  line(`volume of the round is removed. One unmeasured round of three nodes first puts the fleet's overlay on every host.`);
  line('Most of a node\'s time on both sides is the wait for that first health check, which swarm runs one interval (10 s,');
  line('NODE_HEALTH_CHECK in src/runtime/swarm/service-spec.ts) after the container started, and the start of 12 containers on');
  line('the machine\'s cores; the create calls themselves take little of it.');
  line();
  line('| Round | Side | All 12 ready | Median node ready | First node ready | Create calls returned (last) | Failed |');
  line('|---|---|---|---|---|---|---|');
  r.rounds.forEach((x, i) => {
    const all = roundMs(x);
    line(`| ${i + 1} | ${x.side === 'runtime' ? 'Swarm runtime' : '`docker service create`'} | ${Number.isNaN(all) ? '—' : formatMs(all)} | ${formatMs(median(x.readyMs))} | ${x.readyMs.length ? formatMs(Math.min(...x.readyMs)) : '—'} | ${x.createdMs.length ? formatMs(Math.max(...x.createdMs)) : '—'} | ${x.failures.length} |`);
  });
  line();
  const failures = r.rounds.flatMap((x, i) => x.failures.map((f) => `round ${i + 1}: ${f}`));
  if (failures.length > 0) {
    line('Failures:');
    for (const f of failures.slice(0, 10)) line(`- ${f}`);
    line();
  }
  if (r.cliExample) {
    line('One node\'s command in the CLI rounds:');
    line();
    line('```');
    line(r.cliExample);
    line('```');
    line();
  }
  return out.join('\n');
}

/** Replaces the Swarm section of `doc` (or inserts it before Reproduce). */
export function replaceSwarmSection(doc: string, section: string): string {
  const start = doc.indexOf(`\n${SWARM_SECTION_TITLE}\n`);
  const body = section.replace(/\n*$/, '\n\n');
  if (start >= 0) {
    const next = doc.indexOf('\n## ', start + 1 + SWARM_SECTION_TITLE.length);
    return `${doc.slice(0, start + 1)}${body}${next >= 0 ? doc.slice(next + 1) : ''}`;
  }
  const at = doc.indexOf('\n## Reproduce\n');
  if (at < 0) return `${doc.replace(/\n*$/, '\n\n')}${body}`;
  return `${doc.slice(0, at + 1)}${body}${doc.slice(at + 1)}`;
}
