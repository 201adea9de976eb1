/**
 * The fleet part of `npm run bench` (called from run-bench.ts; `node node-image/dist-bench/bench/fleet-bench.js`
 * runs it alone and prints its section):
 *
 * 1. 50 MACHINE=sim nodes through the orchestrator (50 concurrent POST /api/v1/nodes) against 50
 *    concurrent plain `docker run` of the same image and container settings, each timed from the
 *    first call to every BMC answering Get Chassis Status over the project's IPMI client. Repeated,
 *    alternating which side goes first; the medians and their ratio are reported, and where an
 *    orchestrator create spends its time, from its debug log.
 * 2. GET /api/v1/nodes with 200 nodes in the database: rows written straight into the SQLite file of
 *    a stopped orchestrator, which then runs with the Docker engine out of its reach (so its start-up
 *    reconciliation cannot re-create 200 containers; the listing reads only the database).
 *
 * Needs the built orchestrator (dist/src/main.js), Docker and bmcfleet/node:latest; says why and
 * skips what cannot run otherwise. Every process, directory, container and volume it makes is
 * removed when it ends, also on failure or Ctrl-C.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BETWEEN_RUNS_MS, CreateRun, FleetSide, NodeTiming } from './fleet-analysis';
import { BenchOrchestrator, docker, OrchestratorSettings, PortRange, removeByPrefix, removeByPrefixNow, sleep, waitForBmcAnswer } from './fleet-processes';
import { FleetReport, ListingResult, renderFleet } from './fleet-report';
import { DATABASE_FILE_NAME, insertSeed, seedNodes } from './fleet-seed';
import { cleanupOnExit, ProcessGroup } from './processes';

export const DEFAULT_FLEET_RUNS = 3;
export const FLEET_OPTIONS_HELP = [
  '--fleet-runs N    repetitions of 50 nodes per side (orchestrator, docker run) in the fleet part (default 3); 0 skips it',
];
export const FLEET_IMAGE = 'bmcfleet/node:latest';
export const FLEET_NODES = 50;
export const LIST_NODES = 200;
export const LIST_SEQUENTIAL = 200;
export const LIST_WARMUP = 20;
export const LIST_CLIENTS = 10;
export const LIST_CONCURRENT_REQUESTS = 1_000;
const BMC_USER = 'admin';
const BMC_PASSWORD = 'bench-fleet-pass';
/** Every BMC of a run must answer within this (a create alone may wait 90 s for its BMC). */
const RUN_TIMEOUT_MS = 300_000;
/** After the orchestrator answers /healthz: its image check and first reconciliation finish. */
const ORCHESTRATOR_SETTLE_MS = 3_000;
/** Host ports for the runs: below Linux's ephemeral range, where the API port is picked. */
const PORT_BASE_MIN = 20_000;
const PORT_BASE_MAX = 32_000;

export interface FleetBenchOptions {
  readonly runs: number;
  readonly repoRoot: string;
  readonly progress: (msg: string) => void;
  /** Epoch ms after which no new repetition starts. */
  readonly deadline: number;
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A random block of `size` consecutive host ports. */
function portBlock(size: number): number {
  return randomInt(PORT_BASE_MIN, PORT_BASE_MAX - size);
}

const range = (first: number, size: number): PortRange => ({ first, last: first + size - 1 });
const nodeNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${String(i).padStart(2, '0')}`);
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

class FleetBench {
  private readonly group = new ProcessGroup();
  private readonly runId = randomBytes(3).toString('hex');
  /** Every docker object of this bench starts with it. */
  readonly prefix = `bfb${this.runId}-`;
  private readonly main: string;
  readonly cleanupProblems: string[] = [];

  constructor(private readonly o: FleetBenchOptions) {
    this.main = join(o.repoRoot, 'dist', 'src', 'main.js');
  }

  /** Runs `fn` with the group's exit handlers and a last-resort docker clean-up installed. */
  async guarded<T>(fn: () => Promise<T>): Promise<T> {
    const uninstall = cleanupOnExit(this.group);
    const onExit = (): void => removeByPrefixNow(this.prefix);
    process.on('exit', onExit);
    try {
      return await fn();
    } finally {
      await this.group.stopAll();
      this.cleanupProblems.push(...await removeByPrefix(this.group, this.prefix));
      process.off('exit', onExit);
      uninstall();
    }
  }

  orchestratorBuilt(): string | undefined {
    return existsSync(this.main) ? undefined : `the orchestrator is not built (${this.main} is missing; npm run build:orchestrator)`;
  }

  async dockerReady(): Promise<{ skipped?: string; dockerVersion?: string; imageId?: string }> {
    const version = await docker(this.group, ['version', '--format', '{{.Server.Version}}'], 15_000);
    if (version.code !== 0) return { skipped: 'no Docker engine answers (bash scripts/docker-engine.sh starts it)' };
    const image = await docker(this.group, ['image', 'inspect', '--format', '{{.Id}}', FLEET_IMAGE]);
    if (image.code !== 0) return { skipped: `the image ${FLEET_IMAGE} does not exist (npm run build:image builds it)` };
    return { dockerVersion: version.stdout.trim(), imageId: image.stdout.trim() };
  }

  private async orchestrator(fleetName: string, dataDir: string, ipmiRange: PortRange, vncRange: PortRange, env: Record<string, string>): Promise<BenchOrchestrator> {
    const settings: OrchestratorSettings = { main: this.main, cwd: this.o.repoRoot, dataDir, fleetName, ipmiRange, vncRange, port: await freeTcpPort(), env };
    const orchestrator = new BenchOrchestrator(this.group, settings);
    await orchestrator.start();
    return orchestrator;
  }

  // ---------------------------------------------------------------- 1. 50 nodes

  /** The orchestrator's environment in the create runs (beyond DATA_DIR, FLEET_NAME, ranges, PORT). */
  static readonly ORCHESTRATOR_ENV = { NODE_DEFAULTS_ENABLE_KVM: 'false', LOG_LEVEL: 'debug', LOG_FORMAT: 'json' } as const;

  async orchestratorRun(repetition: number, first: boolean): Promise<CreateRun> {
    const fleetName = `${this.prefix}o${repetition}`;
    const dataDir = this.group.tempDir('bmcfleet-bench-fleet-');
    const base = portBlock(4 * FLEET_NODES);
    let orchestrator: BenchOrchestrator | undefined;
    const startedAt = Date.now();
    try {
      orchestrator = await this.orchestrator(fleetName, dataDir, range(base, 2 * FLEET_NODES), range(base + 2 * FLEET_NODES, 2 * FLEET_NODES), { ...FleetBench.ORCHESTRATOR_ENV });
      await sleep(ORCHESTRATOR_SETTLE_MS);
      const api = orchestrator;
      const logFrom = api.log.length;
      const t0 = Date.now();
      const deadline = t0 + RUN_TIMEOUT_MS;
      const nodes = await Promise.all(nodeNames(FLEET_NODES).map(async (name): Promise<NodeTiming> => {
        const requestedAt = Date.now();
        let launchedAt: number | undefined;
        try {
          const r = await api.http.send('POST', '/api/v1/nodes', { name, machine: 'sim', ipmiUser: BMC_USER, ipmiPassword: BMC_PASSWORD });
          if (r.status !== 201) return { name, requestedAt, error: `POST answered ${r.status}: ${r.body.slice(0, 200)}` };
          launchedAt = Date.now();
          const port = (JSON.parse(r.body) as { ipmi: { port: number } }).ipmi.port;
          return { name, requestedAt, launchedAt, answeredAt: await waitForBmcAnswer(port, { user: BMC_USER, password: BMC_PASSWORD }, deadline) };
        } catch (err) {
          return { name, requestedAt, ...(launchedAt === undefined ? {} : { launchedAt }), error: messageOf(err) };
        }
      }));
      return { side: 'orchestrator', repetition, first, startedAt: t0, nodes, fleetName, log: api.logSince(logFrom) };
    } catch (err) {
      return { side: 'orchestrator', repetition, first, startedAt, nodes: [], fleetName, error: messageOf(err) };
    } finally {
      await orchestrator?.stop();
      this.cleanupProblems.push(...await removeByPrefix(this.group, `${fleetName}-`));
      this.group.removeDir(dataDir);
    }
  }

  /** `docker run` arguments of one node: the orchestrator's container for that node, asked for by hand. */
  static dockerRunArgs(container: string, name: string, ipmiPort: number, vncPort: number, labels: readonly string[]): string[] {
    return [
      'run', '-d', '--name', container, ...labels.flatMap((l) => ['--label', l]),
      '--device', '/dev/net/tun', '--cap-add', 'NET_ADMIN', '--restart', 'unless-stopped',
      '-e', 'MACHINE=sim', '-e', `NODE_NAME=${name}`, '-e', 'ENABLE_KVM=false', '-e', `IPMI_USER=${BMC_USER}`, '-e', `IPMI_PASS=${BMC_PASSWORD}`,
      '-e', `IPMI_PORT=${ipmiPort}`, '-e', `VNC_PORT=${vncPort}`,
      '-p', `127.0.0.1:${ipmiPort}:${ipmiPort}/udp`, '-p', `127.0.0.1:${vncPort}:${vncPort}`,
      '-v', `${container}-vm:/vm`, FLEET_IMAGE,
    ];
  }

  async dockerRun(repetition: number, first: boolean): Promise<CreateRun> {
    const prefix = `${this.prefix}d${repetition}-`;
    const base = portBlock(2 * FLEET_NODES);
    const labels = ['bmcfleet.test=1', `bmcfleet.bench=${this.runId}`];
    try {
      const t0 = Date.now();
      const deadline = t0 + RUN_TIMEOUT_MS;
      const nodes = await Promise.all(nodeNames(FLEET_NODES).map(async (name, i): Promise<NodeTiming> => {
        const ipmiPort = base + i;
        const requestedAt = Date.now();
        let launchedAt: number | undefined;
        try {
          const r = await docker(this.group, FleetBench.dockerRunArgs(`${prefix}${name}`, name, ipmiPort, base + FLEET_NODES + i, labels), RUN_TIMEOUT_MS);
          if (r.code !== 0) return { name, requestedAt, error: `docker run exited ${r.code}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}` };
          launchedAt = Date.now();
          return { name, requestedAt, launchedAt, answeredAt: await waitForBmcAnswer(ipmiPort, { user: BMC_USER, password: BMC_PASSWORD }, deadline) };
        } catch (err) {
          return { name, requestedAt, ...(launchedAt === undefined ? {} : { launchedAt }), error: messageOf(err) };
        }
      }));
      return { side: 'docker', repetition, first, startedAt: t0, nodes };
    } finally {
      this.cleanupProblems.push(...await removeByPrefix(this.group, prefix));
    }
  }

  async createRuns(): Promise<{ runs: CreateRun[]; cut?: string }> {
    const runs: CreateRun[] = [];
    const progress = this.o.progress;
    for (let repetition = 1; repetition <= this.o.runs; repetition++) {
      if (Date.now() > this.o.deadline) return { runs, cut: `--max-seconds reached after ${repetition - 1} of ${this.o.runs} repetitions` };
      // Alternate which side goes first, so neither always runs on the other's leftovers.
      const order: FleetSide[] = repetition % 2 === 1 ? ['orchestrator', 'docker'] : ['docker', 'orchestrator'];
      for (const side of order) {
        const first = side === order[0];
        progress(`fleet: repetition ${repetition}, ${FLEET_NODES} nodes through ${side === 'orchestrator' ? 'the orchestrator' : '`docker run`'}`);
        const run = side === 'orchestrator' ? await this.orchestratorRun(repetition, first) : await this.dockerRun(repetition, first);
        runs.push(run);
        const answered = run.nodes.filter((n) => n.answeredAt !== undefined);
        const last = answered.length ? Math.max(...answered.map((n) => n.answeredAt!)) - run.startedAt : NaN;
        const failed = run.error ?? run.nodes.find((n) => n.error)?.error;
        progress(`  ${answered.length} / ${FLEET_NODES} BMCs answered, the last after ${Number.isFinite(last) ? (last / 1000).toFixed(1) : '–'} s${failed ? ` (failure: ${failed})` : ''}`);
        await sleep(BETWEEN_RUNS_MS);
      }
    }
    return { runs };
  }

  // ---------------------------------------------------------------- 2. the nodes API

  async listing(): Promise<ListingResult> {
    const fleetName = `${this.prefix}list`;
    const dataDir = this.group.tempDir('bmcfleet-bench-list-');
    const ipmiRange = range(portBlock(2 * LIST_NODES), LIST_NODES);
    const vncRange = range(ipmiRange.last + 1, LIST_NODES);
    // No engine at this address: the start-up reconciliation fails to list containers and changes nothing.
    const env = { DOCKER_HOST: `unix://${join(dataDir, 'no-docker-engine.sock')}` };
    const progress = this.o.progress;
    let orchestrator: BenchOrchestrator | undefined;
    try {
      progress('fleet: GET /api/v1/nodes: migrating a fresh database, then writing 200 nodes into it');
      orchestrator = await this.orchestrator(fleetName, dataDir, ipmiRange, vncRange, env);
      await orchestrator.stop();
      insertSeed(join(dataDir, DATABASE_FILE_NAME), seedNodes({ count: LIST_NODES, fleetName, ipmiFirstPort: ipmiRange.first, vncFirstPort: vncRange.first, now: new Date() }));
      orchestrator = await this.orchestrator(fleetName, dataDir, ipmiRange, vncRange, env);
      await sleep(ORCHESTRATOR_SETTLE_MS);
      const api = orchestrator;
      const get = async (): Promise<{ ms: number; status: number; bytes: number; body: string }> => {
        const t = performance.now();
        const r = await api.http.send('GET', '/api/v1/nodes', undefined, 30_000);
        return { ms: performance.now() - t, status: r.status, bytes: Buffer.byteLength(r.body), body: r.body };
      };

      const check = await get();
      if (check.status !== 200) throw new Error(`GET /api/v1/nodes answered ${check.status}: ${check.body.slice(0, 200)}`);
      const listed = JSON.parse(check.body) as { name: string; state: string; createdAt: string; ipmi: { port: number } }[];
      if (listed.length !== LIST_NODES) throw new Error(`GET /api/v1/nodes listed ${listed.length} nodes, ${LIST_NODES} were written`);
      if (listed.some((n) => n.state !== 'running' || Number.isNaN(Date.parse(n.createdAt)))) throw new Error('GET /api/v1/nodes returned rows that do not read back as written');
      if (check.body.includes('seed-password')) throw new Error('GET /api/v1/nodes returned a BMC password');

      for (let i = 0; i < LIST_WARMUP; i++) await get();
      progress(`fleet: ${LIST_SEQUENTIAL} sequential GET /api/v1/nodes (${LIST_NODES} nodes, ${check.bytes} bytes each)`);
      const cpu0 = api.cpuMs();
      const sequential: number[] = [];
      for (let i = 0; i < LIST_SEQUENTIAL; i++) {
        const r = await get();
        if (r.status !== 200) throw new Error(`GET /api/v1/nodes answered ${r.status} during the sequential run`);
        sequential.push(r.ms);
      }
      const cpu1 = api.cpuMs();

      progress(`fleet: ${LIST_CONCURRENT_REQUESTS} GET /api/v1/nodes from ${LIST_CLIENTS} concurrent clients`);
      const concurrent: number[] = [];
      let failures = 0;
      let next = 0;
      const t0 = performance.now();
      const client = async (): Promise<void> => {
        while (next < LIST_CONCURRENT_REQUESTS) {
          next++;
          try {
            const r = await get();
            if (r.status === 200) concurrent.push(r.ms);
            else failures++;
          } catch {
            failures++;
          }
        }
      };
      await Promise.all(Array.from({ length: LIST_CLIENTS }, client));
      const elapsedMs = performance.now() - t0;
      const cpu2 = api.cpuMs();
      const perRequest = (a: number | undefined, b: number | undefined, n: number): { cpuMsPerRequest?: number } =>
        (a === undefined || b === undefined || n === 0 ? {} : { cpuMsPerRequest: (b - a) / n });
      return {
        nodes: LIST_NODES,
        responseBytes: check.bytes,
        sequential: { samples: sequential, ...perRequest(cpu0, cpu1, sequential.length) },
        concurrent: { clients: LIST_CLIENTS, requests: LIST_CONCURRENT_REQUESTS, latencies: concurrent, failures, elapsedMs, ...perRequest(cpu1, cpu2, concurrent.length + failures) },
      };
    } catch (err) {
      return { nodes: LIST_NODES, error: messageOf(err) };
    } finally {
      await orchestrator?.stop();
      this.group.removeDir(dataDir);
    }
  }
}

export async function runFleetBench(o: FleetBenchOptions): Promise<FleetReport> {
  const started = Date.now();
  const bench = new FleetBench(o);
  const example = FleetBench.dockerRunArgs(`${bench.prefix}d1-n00`, 'n00', 20_000, 20_050, ['bmcfleet.test=1', 'bmcfleet.bench=RUN']);
  const report = await bench.guarded(async (): Promise<Omit<FleetReport, 'durationS' | 'cleanupProblems'>> => {
    const base = { nodes: FLEET_NODES, runs: o.runs, image: FLEET_IMAGE, dockerRunArgs: example, orchestratorEnv: FleetBench.ORCHESTRATOR_ENV };
    const notBuilt = bench.orchestratorBuilt();
    if (notBuilt) return { ...base, createRuns: [], createSkipped: notBuilt, listingSkipped: notBuilt };
    const listing = await bench.listing();
    if (o.runs === 0) return { ...base, createRuns: [], createSkipped: 'asked to (--fleet-runs 0)', listing };
    const engine = await bench.dockerReady();
    if (engine.skipped) return { ...base, createRuns: [], createSkipped: engine.skipped, listing };
    const { runs, cut } = await bench.createRuns();
    return {
      ...base, createRuns: runs, listing,
      ...(cut ? { createCut: cut } : {}),
      ...(engine.dockerVersion ? { dockerVersion: engine.dockerVersion } : {}),
      ...(engine.imageId ? { imageId: engine.imageId } : {}),
    };
  });
  return { ...report, cleanupProblems: bench.cleanupProblems, durationS: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const runsAt = process.argv.indexOf('--fleet-runs');
  const runs = runsAt >= 0 ? Number(process.argv[runsAt + 1]) : DEFAULT_FLEET_RUNS;
  if (!Number.isInteger(runs) || runs < 0 || runs > 20) throw new Error('--fleet-runs needs a whole number from 0 to 20');
  const progress = (msg: string): void => { process.stderr.write(`bench: ${msg}\n`); };
  const report = await runFleetBench({ runs, repoRoot: resolve(__dirname, '..', '..', '..'), progress, deadline: Date.now() + 3_600_000 });
  process.stdout.write(renderFleet(report));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
