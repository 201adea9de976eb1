/**
 * The web UI's fleet page with 200 nodes, in Debian's chromium driven by playwright-core:
 *   1. load: from navigation start until all 200 rows are on the page (the page's own clock), per run;
 *   2. churn: the bench flips the power state of CHURN_PER_SECOND random nodes a second in the
 *      orchestrator's database (the same rows the power watch and the reconciler write) for
 *      CHURN_SECONDS; meanwhile the page measures how late its own 50 ms timer fires (a busy main
 *      thread delays it: what a user's click would wait) and counts long tasks; once a second the bench
 *      flips a probe node and times until the page shows it.
 * The 200 nodes are rows written into a migrated database of a stopped orchestrator (fleet-seed.ts);
 * it then runs with DOCKER_HOST at a socket where no engine listens, so nothing re-creates containers.
 */
import Database from 'better-sqlite3';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { BenchOrchestrator, sleep } from './fleet-processes';
import { DATABASE_FILE_NAME, insertSeed, seedNodes } from './fleet-seed';
import { cleanupOnExit, ProcessGroup } from './processes';
import { quantile } from './stats';

export const WEB_UI_NODES = 200;
export const DEFAULT_WEB_UI_RUNS = 5;
const CHURN_PER_SECOND = 100;
const CHURN_SECONDS = 15;
export const CHURN_NOTE = `Then one page stays open while the bench flips the power state of ${CHURN_PER_SECOND} random nodes a second in the database for ${CHURN_SECONDS} s (the orchestrator compares the rows every 250 ms and streams each change to the page over GET /api/v1/events), and once a second flips a probe node and times until the page shows it. Meanwhile the page records how late its own 50 ms timer fires (what a click would wait for the main thread) and its long tasks.`;
export const LOAD_TARGET_MS = 2_000;
/** Responsive: the page's timer is at most this late (p99) while the fleet churns (RAIL: answer input within 100 ms). */
export const LAG_TARGET_MS = 100;
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const WEB_UI_OPTIONS_HELP = [
  `--web-ui-runs N   page loads of the 200-node fleet page (default ${DEFAULT_WEB_UI_RUNS}; 0 skips the web UI part)`,
  '--only-web-ui     run only the web UI part and replace its section of docs/benchmarks.md',
];

export interface WebUiReport {
  readonly skipped?: string;
  readonly chromium?: string;
  /** The machine's 1-minute load average at the start and the end of the part. */
  readonly loadAverage?: readonly [number, number];
  readonly loadsMs: readonly number[];
  readonly churn?: {
    readonly changes: number;
    readonly seconds: number;
    readonly lagMs: { readonly p50: number; readonly p99: number; readonly max: number };
    readonly longTasks: number;
    readonly longestTaskMs: number;
    readonly probeMs: readonly number[];
    readonly consistent: boolean;
  };
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Milliseconds from navigation start until the page lists every node (measured in the page). */
async function loadOnce(browser: Browser, url: string): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'commit' });
    const handle = await page.waitForFunction(
      (count) => {
        const g = globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } }; performance: { now(): number } };
        return g.document.querySelectorAll('#nodes tr').length === count ? g.performance.now() : false;
      },
      WEB_UI_NODES,
      { polling: 'raf', timeout: 30_000 },
    );
    return (await handle.jsonValue()) as number;
  } finally {
    await context.close();
  }
}

/** Installs the page's lag probe: a 50 ms timer that records how late it fires, and a long-task observer. */
async function startProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as unknown as Record<string, unknown> & { performance: { now(): number }; PerformanceObserver: new (cb: (list: { getEntries(): { duration: number }[] }) => void) => { observe(o: object): void } };
    const lags: number[] = [];
    const tasks: number[] = [];
    g['__lags'] = lags;
    g['__tasks'] = tasks;
    new g.PerformanceObserver((list) => { for (const entry of list.getEntries()) tasks.push(entry.duration); }).observe({ type: 'longtask' });
    let expected = g.performance.now() + 50;
    const tick = (): void => {
      const now = g.performance.now();
      lags.push(Math.max(0, now - expected));
      expected = now + 50;
      setTimeout(tick, 50);
    };
    setTimeout(tick, 50);
  });
}

async function churn(page: Page, databaseFile: string, progress: (m: string) => void): Promise<NonNullable<WebUiReport['churn']>> {
  const db = new Database(databaseFile, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const flip = db.prepare(`UPDATE "Node" SET "powerState" = CASE "powerState" WHEN 'on' THEN 'off' ELSE 'on' END, "updatedAt" = ? WHERE "name" = ?`);
  const read = db.prepare(`SELECT "name", "powerState" FROM "Node"`);
  const names = Array.from({ length: WEB_UI_NODES }, (_, i) => `node-${String(i).padStart(3, '0')}`);
  const probeName = names[0] as string;
  const probeMs: number[] = [];
  let changes = 0;
  try {
    await startProbe(page);
    progress(`web UI: ${CHURN_PER_SECOND} power changes a second for ${CHURN_SECONDS} s`);
    const started = Date.now();
    for (let second = 0; second < CHURN_SECONDS; second += 1) {
      const secondStart = Date.now();
      for (let step = 0; step < 10; step += 1) {
        const now = new Date().toISOString().replace(/Z$/, '+00:00');
        for (let i = 0; i < CHURN_PER_SECOND / 10; i += 1) {
          flip.run(now, names[randomInt(1, names.length)] as string);
          changes += 1;
        }
        await sleep(Math.max(0, secondStart + (step + 1) * 100 - Date.now()));
      }
      // The probe: one known node flipped, and the time until the page shows its new state.
      const want = (db.prepare(`SELECT "powerState" FROM "Node" WHERE "name" = ?`).get(probeName) as { powerState: string }).powerState === 'on' ? 'off' : 'on';
      const t0 = Date.now();
      flip.run(new Date().toISOString().replace(/Z$/, '+00:00'), probeName);
      changes += 1;
      await page.waitForFunction(
        ([name, state]) => (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document.querySelector(`tr[data-name="${name}"]`)?.getAttribute('data-power') === state,
        [probeName, want] as const,
        { polling: 'raf', timeout: 10_000 },
      );
      probeMs.push(Date.now() - t0);
    }
    const seconds = (Date.now() - started) / 1000;
    await sleep(1_500);
    const rows = read.all() as { name: string; powerState: string }[];
    const shown = await page.evaluate(() => {
      const out: Record<string, string | null> = {};
      const g = globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ getAttribute(a: string): string | null }> } };
      for (const row of Array.from(g.document.querySelectorAll('#nodes tr'))) out[row.getAttribute('data-name') ?? ''] = row.getAttribute('data-power');
      return out;
    });
    const consistent = rows.every((row) => shown[row.name] === row.powerState);
    const { lags: rawLags, tasks } = await page.evaluate(() => ({ lags: (globalThis as unknown as { __lags: number[] }).__lags, tasks: (globalThis as unknown as { __tasks: number[] }).__tasks }));
    const lags = [...rawLags].sort((a, b) => a - b);
    return {
      changes,
      seconds,
      lagMs: { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: Math.max(0, ...lags) },
      longTasks: tasks.length,
      longestTaskMs: Math.max(0, ...tasks),
      probeMs,
      consistent,
    };
  } finally {
    db.close();
  }
}

export async function runWebUiBench(o: { runs: number; repoRoot: string; progress: (m: string) => void }): Promise<WebUiReport> {
  if (o.runs === 0) return { skipped: 'skipped (--web-ui-runs 0)', loadsMs: [] };
  if (!existsSync(CHROMIUM)) return { skipped: `skipped: ${CHROMIUM} is missing (scripts/setup.sh installs Debian's chromium)`, loadsMs: [] };
  const main = join(o.repoRoot, 'dist', 'src', 'main.js');
  if (!existsSync(join(o.repoRoot, 'dist', 'web', 'app.js'))) return { skipped: 'skipped: the web UI is not built (npm run build:web)', loadsMs: [] };
  const { chromium } = await import('playwright-core');
  const loadAtStart = loadavg()[0] ?? 0;
  const group = new ProcessGroup();
  const uninstall = cleanupOnExit(group);
  const dataDir = group.tempDir('bmcfleet-bench-webui-');
  const fleetName = `bwu${randomBytes(3).toString('hex')}`;
  const base = randomInt(30_000, 32_000);
  const settings = {
    main, cwd: o.repoRoot, dataDir, fleetName,
    ipmiRange: { first: base, last: base + WEB_UI_NODES - 1 },
    vncRange: { first: base + WEB_UI_NODES, last: base + 2 * WEB_UI_NODES - 1 },
    env: { DOCKER_HOST: `unix://${join(dataDir, 'no-docker-engine.sock')}`, RECONCILE_INTERVAL_S: '0', REDFISH_PORT_RANGE: `${base + 2 * WEB_UI_NODES}-${base + 3 * WEB_UI_NODES - 1}` },
  };
  let orchestrator: BenchOrchestrator | undefined;
  let browser: Browser | undefined;
  try {
    o.progress('web UI: migrating a fresh database, then writing 200 nodes into it');
    orchestrator = new BenchOrchestrator(group, { ...settings, port: await freeTcpPort() });
    await orchestrator.start();
    await orchestrator.stop();
    insertSeed(join(dataDir, DATABASE_FILE_NAME), seedNodes({ count: WEB_UI_NODES, fleetName, ipmiFirstPort: settings.ipmiRange.first, vncFirstPort: settings.vncRange.first, now: new Date() }));
    orchestrator = new BenchOrchestrator(group, { ...settings, port: await freeTcpPort() });
    await orchestrator.start();
    const url = `${orchestrator.http.baseUrl}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
    const version = browser.version();
    await loadOnce(browser, url); // warm-up: the orchestrator's first page and the browser's caches
    const loadsMs: number[] = [];
    for (let run = 0; run < o.runs; run += 1) {
      loadsMs.push(await loadOnce(browser, url));
      o.progress(`web UI: load ${run + 1}/${o.runs}: ${loadsMs[loadsMs.length - 1]?.toFixed(0)} ms`);
    }
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(url);
    await page.locator('#count').filter({ hasText: `${WEB_UI_NODES} nodes` }).waitFor({ timeout: 30_000 });
    const result = await churn(page, join(dataDir, DATABASE_FILE_NAME), o.progress);
    await context.close();
    return { chromium: version, loadAverage: [loadAtStart, loadavg()[0] ?? 0], loadsMs, churn: result };
  } finally {
    await browser?.close();
    await orchestrator?.stop();
    await group.stopAll();
    uninstall();
  }
}
