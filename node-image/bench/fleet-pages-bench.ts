/**
 * The fleet-pages part of `npm run bench` (`node node-image/dist-bench/bench/fleet-pages-bench.js`
 * runs it alone): GET /api/v1/nodes pages over 100,000 node rows. The rows are written straight into
 * the SQLite file of a stopped orchestrator (fleet-seed.ts; every 7th node qemu, every 10th powered
 * on), which then runs with the Docker engine out of its reach, so its start-up reconciliation
 * changes nothing and every request reads only the database. Cases: the whole fleet walked page by
 * page (every depth of the name index), the first page again and again, and each filter (machine,
 * power state, name prefix, two together) walked for a number of pages. Target: p99 ≤ 50 ms.
 */
import Database from 'better-sqlite3';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { BenchOrchestrator, HttpClient } from './fleet-processes';
import { DATABASE_FILE_NAME, insertSeed, seedNodes } from './fleet-seed';
import { cleanupOnExit, ProcessGroup } from './processes';
import { formatCount, formatMs, summarize } from './stats';

export const PAGE_ROWS = 100_000;
export const PAGE_LIMIT = 100;
export const PAGE_TARGET_MS = 50;
/** Requests of the first page, and pages walked per filtered case. */
const FIRST_PAGE_REQUESTS = 200;
const FILTER_PAGES = 100;
const WARMUP_REQUESTS = 20;

export interface PageCase {
  readonly label: string;
  readonly query: string;
  readonly samples: readonly number[];
  readonly items: number;
  readonly bytesPerPage: number;
  /** The orchestrator's CPU time (user + system) per page, from /proc: what the machine's load does not change. */
  readonly cpuMsPerPage?: number;
}

export interface PagesReport {
  readonly rows: number;
  readonly seedMs?: number;
  readonly cases: readonly PageCase[];
  /** 1-minute load average when the walks began and ended (other work on the machine stretches wall times). */
  readonly load?: readonly [number, number];
  readonly error?: string;
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

interface Page { items: { name: string }[]; nextCursor: string | null }

async function timedGet(http: HttpClient, path: string): Promise<{ ms: number; page: Page; bytes: number }> {
  const t = performance.now();
  const r = await http.send('GET', path, undefined, 30_000);
  const ms = performance.now() - t;
  if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}: ${r.body.slice(0, 200)}`);
  return { ms, page: JSON.parse(r.body) as Page, bytes: Buffer.byteLength(r.body) };
}

/** Follows nextCursor for at most maxPages pages; every page's latency. */
async function walk(http: HttpClient, label: string, filters: string, maxPages: number, cpuMs: () => number | undefined): Promise<PageCase> {
  const cpu0 = cpuMs();
  const samples: number[] = [];
  let items = 0;
  let bytes = 0;
  let cursor: string | null = null;
  let previous = '';
  for (let i = 0; i < maxPages; i++) {
    const r = await timedGet(http, `/api/v1/nodes?limit=${PAGE_LIMIT}${filters}${cursor === null ? '' : `&cursor=${cursor}`}`);
    samples.push(r.ms);
    bytes += r.bytes;
    for (const item of r.page.items) {
      if (item.name <= previous) throw new Error(`${label}: ${item.name} came after ${previous}`);
      previous = item.name;
    }
    items += r.page.items.length;
    cursor = r.page.nextCursor;
    if (cursor === null) break;
  }
  return { label, query: `?limit=${PAGE_LIMIT}${filters}`, samples, items, bytesPerPage: Math.round(bytes / samples.length), ...perPage(cpu0, cpuMs(), samples.length) };
}

function perPage(before: number | undefined, after: number | undefined, pages: number): { cpuMsPerPage?: number } {
  return before === undefined || after === undefined || pages === 0 ? {} : { cpuMsPerPage: (after - before) / pages };
}

export async function runPagesBench(o: { repoRoot: string; rows: number; progress: (msg: string) => void }): Promise<PagesReport> {
  const group = new ProcessGroup();
  const uninstall = cleanupOnExit(group);
  const dataDir = group.tempDir('bmcfleet-bench-pages-');
  const fleetName = `bpg${process.pid}`;
  // No engine at this address: the start-up reconciliation fails to list containers and changes nothing.
  const settings = async () => ({
    main: join(o.repoRoot, 'dist', 'src', 'main.js'), cwd: o.repoRoot, dataDir, fleetName,
    ipmiRange: { first: 20_000, last: 20_099 }, vncRange: { first: 20_100, last: 20_199 }, port: await freeTcpPort(),
    env: { DOCKER_HOST: `unix://${join(dataDir, 'no-docker-engine.sock')}`, LOG_LEVEL: 'warn', RECONCILE_INTERVAL_S: '0' },
  });
  let orchestrator: BenchOrchestrator | undefined;
  try {
    o.progress(`pages: migrating a fresh database, then writing ${formatCount(o.rows)} nodes into it`);
    orchestrator = new BenchOrchestrator(group, await settings());
    await orchestrator.start();
    await orchestrator.stop();
    const t0 = performance.now();
    const file = join(dataDir, DATABASE_FILE_NAME);
    insertSeed(file, seedNodes({ count: o.rows, fleetName, ipmiFirstPort: 100_000, vncFirstPort: 300_000, now: new Date() }));
    const db = new Database(file);
    db.exec(`UPDATE "Node" SET "machine" = 'qemu' WHERE rowid % 7 = 0; UPDATE "Node" SET "powerState" = 'on' WHERE rowid % 10 = 0;`);
    db.close();
    const seedMs = performance.now() - t0;
    orchestrator = new BenchOrchestrator(group, await settings());
    await orchestrator.start();
    const http = orchestrator.http;
    const api = orchestrator;
    const cpuMs = (): number | undefined => api.cpuMs();
    const loadAtStart = loadavg()[0] ?? NaN;
    for (let i = 0; i < WARMUP_REQUESTS; i++) await timedGet(http, `/api/v1/nodes?limit=${PAGE_LIMIT}`);

    const cases: PageCase[] = [];
    o.progress(`pages: walking all ${formatCount(o.rows)} nodes, ${PAGE_LIMIT} a page`);
    const all = await walk(http, 'whole fleet, page by page', '', Math.ceil(o.rows / PAGE_LIMIT) + 1, cpuMs);
    if (all.items !== o.rows) throw new Error(`the walk listed ${all.items} nodes, ${o.rows} were written`);
    cases.push(all);
    const first: number[] = [];
    let firstBytes = 0;
    const firstCpu = cpuMs();
    for (let i = 0; i < FIRST_PAGE_REQUESTS; i++) {
      const r = await timedGet(http, `/api/v1/nodes?limit=${PAGE_LIMIT}`);
      first.push(r.ms);
      firstBytes = r.bytes;
    }
    cases.push({ label: 'first page, repeated', query: `?limit=${PAGE_LIMIT}`, samples: first, items: PAGE_LIMIT * FIRST_PAGE_REQUESTS, bytesPerPage: firstBytes, ...perPage(firstCpu, cpuMs(), first.length) });
    for (const [label, filters] of [
      ['machine=qemu (1 in 7)', '&machine=qemu'],
      ['powerState=on (1 in 10)', '&powerState=on'],
      ['machine=sim & powerState=on', '&machine=sim&powerState=on'],
      ['name prefix node-5 (1 in 10)', '&name=node-5'],
    ] as const) {
      o.progress(`pages: ${label}, up to ${FILTER_PAGES} pages`);
      cases.push(await walk(http, label, filters, FILTER_PAGES, cpuMs));
    }
    return { rows: o.rows, seedMs, cases, load: [loadAtStart, loadavg()[0] ?? NaN] };
  } catch (err) {
    return { rows: o.rows, cases: [], error: err instanceof Error ? err.message : String(err) };
  } finally {
    await orchestrator?.stop();
    group.removeDir(dataDir);
    await group.stopAll();
    uninstall();
  }
}

export function renderPages(r: PagesReport): string {
  const lines = [
    `### GET /api/v1/nodes pages over ${formatCount(r.rows)} nodes`,
    '',
    `${formatCount(r.rows)} node rows written straight into a stopped orchestrator's SQLite file${r.seedMs === undefined ? '' : ` (${(r.seedMs / 1000).toFixed(1)} s)`}, every 7th a qemu node and every 10th powered on; the orchestrator then runs without a Docker engine, so every request reads only the database. One client, one request at a time, ${PAGE_LIMIT} nodes a page, each page followed by its \`nextCursor\`. Target: a page within ${PAGE_TARGET_MS} ms (the median; p99 shown). The orchestrator's CPU time per page does not depend on what else the machine runs${r.load === undefined ? '' : `; the 1-minute load average was ${r.load[0].toFixed(1)} when the walks began and ${r.load[1].toFixed(1)} when they ended`}.`,
    '',
  ];
  if (r.error !== undefined) return [...lines, `Not measured: ${r.error}`, ''].join('\n');
  lines.push(`| Case | Pages | Nodes | Bytes a page | CPU a page | Median | p90 | p99 | Max | median ≤ ${PAGE_TARGET_MS} ms |`, '|---|---|---|---|---|---|---|---|---|---|');
  for (const c of r.cases) {
    const s = summarize(c.samples);
    lines.push(`| ${c.label} (\`${c.query}\`) | ${formatCount(s.count)} | ${formatCount(c.items)} | ${formatCount(c.bytesPerPage)} | ${formatMs(c.cpuMsPerPage ?? NaN)} | ${formatMs(s.median)} | ${formatMs(s.p90)} | ${formatMs(s.p99)} | ${formatMs(s.max)} | ${s.median <= PAGE_TARGET_MS ? 'met' : '**not met**'} |`);
  }
  return [...lines, ''].join('\n');
}

if (require.main === module) {
  const rowsAt = process.argv.indexOf('--rows');
  const rows = rowsAt >= 0 ? Number(process.argv[rowsAt + 1]) : PAGE_ROWS;
  runPagesBench({ repoRoot: resolve(__dirname, '..', '..', '..'), rows, progress: (msg) => process.stderr.write(`bench: ${msg}\n`) })
    .then((report) => process.stdout.write(renderPages(report)))
    .catch((err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exit(1);
    });
}
