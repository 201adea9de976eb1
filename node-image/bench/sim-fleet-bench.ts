/**
 * The sim-fleet part of `npm run bench`: `nodes` (default 10,000) `machine: sim` nodes through the
 * HTTP API of a fresh orchestrator (`node dist/src/main.js`, SIM_PLACEMENT=farm) with the real
 * Docker engine: batch creates, the paginated and filtered list over all of them, every node powered
 * on through the API and read back with the project's IPMI client and through the list, a farm
 * container SIGKILLed and brought back by the reconciler with its BMCs' power and users, the
 * orchestrator SIGKILLed in the middle of a batch and counted after its restart, and every node
 * deleted through the API. Memory and CPU of the farms and the orchestrator, with the load average.
 * Every process, container and volume it makes is removed when it ends, also on failure or Ctrl-C.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cpus, loadavg, release } from 'node:os';
import { performance } from 'node:perf_hooks';
import { BenchOrchestrator, docker, removeByPrefix, removeByPrefixNow } from './fleet-processes';
import { rssKiB } from './farm-processes';
import { cleanupOnExit, findExecutable, ProcessGroup, runCommand } from './processes';
import { restorePrevious, allFarmBmcs, databaseCounts, expectStatus, fanOut, farmContainers, farmRoster, farmUsage, powerSweep, walkPages, type BatchNode, type PowerSweep } from './sim-fleet-checks';
import { renderSimFleet, SIM_FLEET_BATCH, type SimFleetSweep, type SimFleetResult, type PageFigures } from './sim-fleet-report';
import { summarize } from './stats';
import { DATABASE_FILE_NAME } from './fleet-seed';

const PASSWORD = 'sim-fleet-pass';
const USER = 'admin';
const API_CONCURRENCY = 16;
/** Nodes of the batch the orchestrator is killed in the middle of. */
const KILL_BATCH = 1_000;
/** BMCs of the killed farm given a second user through ipmitool before the kill. */
const USER_SAMPLE = 10;
const PAGE_LIMIT = 100;
/** Past the farm's state flush interval (node-image/src/farm/farm-runner.ts STATE_FLUSH_MS, 1 s). */
const FLUSH_WAIT_MS = 2_500;
const IMAGE = process.env['BMCFLEET_NODE_IMAGE'] ?? 'bmcfleet/node:latest';

export interface SimFleetOptions {
  readonly nodes: number;
  readonly repoRoot: string;
  readonly progress: (msg: string) => void;
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

const load1 = (): number => loadavg()[0]!;
const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => { const t0 = performance.now(); const v = await fn(); return [v, performance.now() - t0]; };

export async function runSimFleetBench(o: SimFleetOptions): Promise<SimFleetResult> {
  const main = join(o.repoRoot, 'dist', 'src', 'main.js');
  if (!existsSync(main)) return { skipped: `the orchestrator is not built (${main} is missing; npm run build:orchestrator)` };
  const group = new ProcessGroup();
  if ((await docker(group, ['version', '--format', '{{.Server.Version}}'], 15_000)).code !== 0) return { skipped: 'no Docker engine answers (bash scripts/docker-engine.sh starts it)' };
  if ((await docker(group, ['image', 'inspect', IMAGE])).code !== 0) return { skipped: `the image ${IMAGE} does not exist (npm run build:image builds it)` };
  const fleetName = `bsf${randomBytes(3).toString('hex')}`;
  const uninstall = cleanupOnExit(group);
  const onExit = (): void => removeByPrefixNow(fleetName);
  process.on('exit', onExit);
  try {
    return await measure(group, o, main, fleetName);
  } finally {
    await group.stopAll();
    const problems = await removeByPrefix(group, fleetName);
    if (problems.length > 0) o.progress(`sim fleet: clean-up: ${problems.join('; ')}`);
    process.off('exit', onExit);
    uninstall();
  }
}

async function measure(group: ProcessGroup, o: SimFleetOptions, main: string, fleetName: string): Promise<SimFleetResult> {
  const n = o.nodes;
  const started = Date.now();
  const loadStart = load1();
  // UDP (IPMI) and TCP (Redfish) ports are apart: one block of numbers serves both, below Linux's ephemeral range.
  const span = n + KILL_BATCH + 100;
  const first = randomInt(18_000, 32_700 - span);
  const range = { first, last: first + span - 1 };
  const dataDir = group.tempDir('bmcfleet-bench-simfleet-');
  const env = { SIM_PLACEMENT: 'farm', RECONCILE_INTERVAL_S: '0', NODE_IMAGE: IMAGE, REDFISH_PORT_RANGE: `${range.first}-${range.last}`, LOG_LEVEL: 'warn' };
  const orchestrator = (): BenchOrchestrator => new BenchOrchestrator(group, { main, cwd: o.repoRoot, dataDir, fleetName, ipmiRange: range, vncRange: { first: 17_800, last: 17_899 }, port, env });
  const port = await freeTcpPort();
  let api = orchestrator();
  await api.start();
  const dbFile = join(dataDir, DATABASE_FILE_NAME);
  const r: SimFleetResult & { errors: string[] } = { nodes: n, batchSize: SIM_FLEET_BATCH, portRange: `${range.first}-${range.last}`, errors: [] };
  const phase = async (name: string, fn: () => Promise<void>): Promise<void> => {
    o.progress(`sim fleet: ${name}`);
    try { await fn(); } catch (err) { r.errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`); o.progress(`sim fleet: ${name} failed: ${String(err)}`); }
  };

  // 1. Batch creates.
  const nodes: BatchNode[] = [];
  const batchMs: number[] = [];
  const cpu0 = api.cpuMs() ?? 0;
  const t0 = performance.now();
  for (let at = 0; at < n; at += SIM_FLEET_BATCH) {
    const count = Math.min(SIM_FLEET_BATCH, n - at);
    const [body, ms] = await timed(() => expectStatus<{ nodes: BatchNode[] }>(api.http, 'POST', '/api/v1/node-batches', 201, { namePrefix: 'sim', count, firstIndex: at + 1, machine: 'sim', ipmiPassword: PASSWORD }));
    batchMs.push(ms);
    nodes.push(...body.nodes);
    o.progress(`sim fleet: ${nodes.length} / ${n} created (batch ${Math.round(ms)} ms)`);
  }
  const withAddresses = nodes.filter((x) => x.ipmi.host !== '' && x.ipmi.port > 0 && x.redfish !== null && x.redfish.port > 0).length;
  r.create = { batchMs, totalMs: performance.now() - t0, answered: nodes.length, withAddresses, distinctIpmiPorts: new Set(nodes.map((x) => x.ipmi.port)).size, orchestratorCpuMs: (api.cpuMs() ?? 0) - cpu0, farms: (await farmContainers(group, fleetName)).length };
  r.memoryAfterCreate = { farms: await farmUsage(group, fleetName), orchestratorRssKiB: api.pid === undefined ? 0 : rssKiB(api.pid) };

  // 2. Pages.
  const pages: PageFigures[] = [];
  const walk = async (query: string, expected: number): Promise<void> => {
    const w = await walkPages(api.http, query);
    pages.push({ query, pages: w.pages, items: w.items, expected, distinct: new Set(w.names).size, summary: summarize(w.pageMs) });
  };
  await phase('paginated lists', async () => {
    await walk(`limit=${PAGE_LIMIT}`, n);
    await walk(`limit=${PAGE_LIMIT}&machine=sim`, n);
    await walk(`limit=${PAGE_LIMIT}&powerState=off`, n);
    await walk(`limit=${PAGE_LIMIT}&name=sim-0`, nodes.filter((x) => x.name.startsWith('sim-0')).length);
    await walk('limit=1000', n);
  });
  r.pages = pages;

  let wereOn = new Set<number>();
  // 3. Power every node on through the API; read it back over IPMI, through the reconciler and the list.
  await phase('power on through the API', async () => {
    const c0 = api.cpuMs() ?? 0;
    const [failures, ms] = await timed(() => fanOut(nodes, API_CONCURRENCY, async (x) => { await expectStatus(api.http, 'POST', `/api/v1/nodes/${x.name}/power`, 200, { action: 'on' }); }));
    const [sweep] = await timed(() => powerSweep(nodes.map((x) => x.ipmi.port), { user: USER, password: PASSWORD }));
    const [reconcile, reconcileMs] = await timed(() => expectStatus<{ errors: unknown[] }>(api.http, 'POST', '/api/v1/reconcile', 200));
    const listed = await walkPages(api.http, `limit=1000&powerState=on`);
    wereOn = new Set(sweep.onPorts);
    r.power = { apiMs: ms, apiFailures: failures.length, firstApiFailure: failures[0]?.error, orchestratorCpuMs: (api.cpuMs() ?? 0) - c0, sweep: trim(sweep), reconcileMs, reconcileErrors: reconcile.errors.length, listedOn: listed.items };
  });

  // 4. A farm container SIGKILLed: the reconciler brings it back with every BMC's power and users.
  await phase('farm killed', async () => {
    const farms = await farmContainers(group, fleetName);
    const farm = (farms[1] ?? farms[0])?.name ?? `${fleetName}_farm-1`;
    const roster = new Set(await farmRoster(group, farm));
    const members = nodes.filter((x) => roster.has(x.name));
    const ipmitool = findExecutable('ipmitool');
    const sample = ipmitool === undefined ? [] : members.slice(0, USER_SAMPLE);
    for (const x of sample) {
      for (const args of [['user', 'set', 'name', '3', 'bench3'], ['user', 'set', 'password', '3', 'Bench3-pass'], ['user', 'priv', '3', '4', '1'], ['user', 'enable', '3']]) {
        const res = await runCommand(group, ipmitool!, ['-I', 'lanplus', '-C', '17', '-H', '127.0.0.1', '-p', String(x.ipmi.port), '-U', USER, '-P', PASSWORD, ...args], 20_000);
        if (res.code !== 0) throw new Error(`ipmitool ${args.join(' ')} on ${x.name}: ${res.stderr.trim()}`);
      }
    }
    const policyFailures = await restorePrevious(members.map((x) => x.ipmi.port), { user: USER, password: PASSWORD });
    if (policyFailures.length > 0) throw new Error(`Set Power Restore Policy failed on ${policyFailures.length} BMCs, first: ${policyFailures[0]}`);
    // The farm writes changed state at most once a second (STATE_FLUSH_MS): the kill comes after that.
    await new Promise((resolve) => setTimeout(resolve, FLUSH_WAIT_MS));
    await docker(group, ['kill', '--signal', 'KILL', farm]);
    const [repaired, reconcileMs] = await timed(() => expectStatus<{ repairs: { kind: string; node: string }[]; errors: unknown[] }>(api.http, 'POST', '/api/v1/reconcile', 200));
    const sweep = await powerSweep(members.map((x) => x.ipmi.port), { user: USER, password: PASSWORD });
    const users = await powerSweep(sample.map((x) => x.ipmi.port), { user: 'bench3', password: 'Bench3-pass' });
    r.farmKill = { farm: farm.slice(fleetName.length + 1), bmcs: members.length, reconcileMs, repairs: repaired.repairs.filter((x) => `${fleetName}_${x.node}` === farm).map((x) => x.kind), reconcileErrors: repaired.errors.length,
      onBefore: members.filter((x) => wereOn.has(x.ipmi.port)).length, onAgain: sweep.onPorts.filter((port) => wereOn.has(port)).length,
      sweep: trim(sweep), userSample: sample.length, userLogins: users.on + users.off };
  });

  // 5. The orchestrator SIGKILLed in the middle of a batch, restarted, reconciled, counted.
  await phase('orchestrator killed in a batch', async () => {
    const killAfterMs = Math.round(Math.max(300, (summarize(batchMs).median * KILL_BATCH / SIM_FLEET_BATCH) / 2));
    const pending = api.http.send('POST', '/api/v1/node-batches', { namePrefix: 'late', count: KILL_BATCH, machine: 'sim', ipmiPassword: PASSWORD }).catch(() => null);
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    const pid = api.pid;
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
    const answered = await pending;
    if (answered !== null && answered.status !== 201) o.progress(`sim fleet: the batch answered ${answered.status} before the kill; orchestrator log: ${api.log.slice(-15).join('\n')}`);
    await api.stop();
    api = orchestrator();
    const [, restartMs] = await timed(() => api.start());
    const [reconcile, reconcileMs] = await timed(() => expectStatus<{ errors: unknown[] }>(api.http, 'POST', '/api/v1/reconcile', 200));
    const rows = (await walkPages(api.http, 'limit=1000')).names;
    const late = rows.filter((x) => x.startsWith('late-')).length;
    const inFarms = await allFarmBmcs(group, fleetName);
    const rowSet = new Set(rows);
    const farmSet = new Set(inFarms);
    const db = databaseCounts(dbFile);
    const lateNodes = late === 0 ? [] : (await walkPages(api.http, 'limit=1000&name=late-')).names;
    const lateAnswering = late === 0 ? undefined : await powerSweep(await latePorts(api, lateNodes), { user: USER, password: PASSWORD });
    r.orchestratorKill = {
      killAfterMs, answeredBeforeKill: answered === null ? null : `${answered.status}${answered.status === 201 ? '' : ` ${answered.body.slice(0, 200)}`}`, restartMs, reconcileMs, reconcileErrors: reconcile.errors.length, batch: KILL_BATCH, late, rows: rows.length,
      farmBmcs: inFarms.length, duplicateBmcs: inFarms.length - farmSet.size, strayBmcs: [...farmSet].filter((x) => !rowSet.has(x)).length, missingBmcs: rows.filter((x) => !farmSet.has(x)).length,
      db, ...(lateAnswering ? { lateAnswering: lateAnswering.on + lateAnswering.off } : {}),
    };
    if (late > 0) nodes.push(...lateNodes.map((name) => ({ id: '', name, ipmi: { host: '', port: 0, user: USER }, redfish: null })));
  });

  // 6. Delete every node through the API; no BMC, lease or row stays.
  await phase('delete all', async () => {
    const c0 = api.cpuMs() ?? 0;
    const memory = { farms: await farmUsage(group, fleetName), orchestratorRssKiB: api.pid === undefined ? 0 : rssKiB(api.pid) };
    r.memoryAtEnd = memory;
    const [failures, ms] = await timed(() => fanOut(nodes, API_CONCURRENCY * 2, async (x) => { await expectStatus(api.http, 'DELETE', `/api/v1/nodes/${x.name}?purge=true`, 204); }));
    const left = await walkPages(api.http, 'limit=1000');
    const db = databaseCounts(dbFile);
    const sample = nodes.filter((x) => x.ipmi.port > 0).filter((_, i) => i % Math.max(1, Math.floor(n / 50)) === 0).map((x) => x.ipmi.port);
    const probe = await powerSweep(sample, { user: USER, password: PASSWORD });
    r.remove = { deleted: nodes.length, apiMs: ms, apiFailures: failures.length, firstApiFailure: failures[0]?.error, orchestratorCpuMs: (api.cpuMs() ?? 0) - c0,
      rowsListed: left.items, db, farmBmcsLeft: (await allFarmBmcs(group, fleetName)).length, probed: sample.length, probedAnswering: probe.on + probe.off };
  });
  r.load = [loadStart, load1()];
  r.seconds = Math.round((Date.now() - started) / 1000);
  await api.stop();
  return r;
}

/** A sweep as the report keeps it: counts and the first failures. */
function trim(s: PowerSweep): SimFleetSweep {
  return { attempted: s.attempted, on: s.on, off: s.off, ms: s.ms, failures: s.failures.slice(0, 3), failed: s.failures.length };
}

async function latePorts(api: BenchOrchestrator, names: readonly string[]): Promise<number[]> {
  const ports: number[] = [];
  await fanOut(names, API_CONCURRENCY, async (name) => {
    const node = await expectStatus<{ ipmi: { port: number } }>(api.http, 'GET', `/api/v1/nodes/${name}`, 200);
    ports.push(node.ipmi.port);
  });
  return ports;
}

/** The part as its section of docs/benchmarks.md, with the date, machine and load it ran on. */
export async function simFleetSection(nodes: number, repoRoot: string, progress: (msg: string) => void): Promise<string> {
  const cpuInfo = /^model name\s*:\s*(.+)$/m.exec(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '');
  const load = loadavg().map((x) => x.toFixed(2)).join(' / ');
  const measuredOn = `on ${new Date().toISOString()}, ${cpuInfo?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.version}, Linux ${release()}, load average at start ${load}`;
  return renderSimFleet(await runSimFleetBench({ nodes, repoRoot, progress }), measuredOn);
}
