/**
 * The web UI's fleet page with 200 nodes, in Debian's chromium driven by puppeteer-core (as the web
 * UI's browser tests; docs/adr/0015):
 *   1. load: from navigation start until all 200 rows are on the page (the page's own clock), per run;
 *   2. churn: the bench powers CHURN_PER_SECOND random nodes a second on or off through their BMCs
 *      (IPMI Chassis Control to a farm of 200 real sim BMCs) for CHURN_SECONDS: every 100 ms a tick
 *      starts its share without waiting for earlier ticks' changes (at most MAX_IN_FLIGHT at once,
 *      one per node; a tick finding the bound reached skips and counts its changes); the orchestrator's
 *      power watch reads each BMC and streams the changes to the page. Meanwhile a key is pressed into
 *      the page's create form every 200 ms and the page measures each key's time to the next paint
 *      (Event Timing), how late its own 50 ms timer fires, and its long tasks (web-ui-probe.ts); once a
 *      second (beside the ticks) the bench powers a probe node and times until the page shows it.
 * The 200 nodes are rows written into a migrated database of a stopped orchestrator (fleet-seed.ts),
 * each at the IPMI port of one BMC of the farm (node-image/src/farm, MACHINE=sim, FARM_PORTS); the
 * orchestrator runs with DOCKER_HOST at a socket where no engine listens, so nothing re-creates
 * containers, and reaches the BMCs on 127.0.0.1 as it reaches its nodes' published ports.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { IpmiClient, IpmiClientError, IpmiClientErrorCode } from '../src/client/ipmi-client';
import { startFarmProcess, type RunningFarm } from './farm-processes';
import { BenchOrchestrator, sleep } from './fleet-processes';
import { DATABASE_FILE_NAME, insertSeed, seedNodes } from './fleet-seed';
import { cleanupOnExit, ProcessGroup } from './processes';
import { BENCH_PASSWORD, BENCH_USER } from './servers';
import { quantile } from './stats';
import { readTimings, shownPowerStates, startProbes, waitForShownPower } from './web-ui-probe';

export const WEB_UI_NODES = 200;
export const DEFAULT_WEB_UI_RUNS = 5;
export const CHURN_PER_SECOND = 20;
/** How long after the churn the page may take to show every BMC's power. */
export const CONSISTENT_WITHIN_MS = 30_000;
/** How long the probe waits for its change on the page before it counts a miss. */
const PROBE_TIMEOUT_MS = 30_000;
export const CHURN_SECONDS = 15;
/** Ticks a second: each starts CHURN_PER_SECOND / CHURN_TICKS changes. */
const CHURN_TICKS = 10;
/** Power changes started and not yet answered, at most (the bench's own bound; one per node). */
export const MAX_IN_FLIGHT = 60;
export const CHURN_NOTE = `Then one page stays open while the bench powers ${CHURN_PER_SECOND} random nodes a second on or off through their BMCs for ${CHURN_SECONDS} s (IPMI Chassis Control to the farm's sim BMCs; every ${1000 / CHURN_TICKS} ms a tick starts ${CHURN_PER_SECOND / CHURN_TICKS} changes without waiting for earlier ones, at most ${MAX_IN_FLIGHT} unanswered at once; the orchestrator's power watch reads every BMC each 700 ms and streams each change to the page over GET /api/v1/events), and beside that, once a second, powers a probe node and times until the page shows it. Meanwhile the bench presses a key into the page's create form every 200 ms, and the page records each key's time from input to the next paint (Event Timing API, \`keydown\` duration; keys under its 16 ms threshold count as 16 ms), how late its own 50 ms timer fires, and its long tasks.`;
export const LOAD_TARGET_MS = 2_000;
/** Responsive: a key reaches the screen within this (p99) while the fleet churns (RAIL: answer input within 100 ms). */
export const INPUT_TARGET_MS = 100;
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const WEB_UI_OPTIONS_HELP = [
  `--web-ui-runs N   page loads of the 200-node fleet page (default ${DEFAULT_WEB_UI_RUNS}; 0 skips the web UI part)`,
  '--only-web-ui     run only the web UI part and replace its section of docs/benchmarks.md',
];

export interface WebUiReport {
  readonly skipped?: string;
  readonly chromium?: string;
  /** When the part ran (ISO 8601) and on what (cores, CPU model, memory). */
  readonly ranAt?: string;
  readonly machine?: string;
  /** The machine's 1-minute load average at the start and the end of the part. */
  readonly loadAverage?: readonly [number, number];
  readonly loadsMs: readonly number[];
  readonly churn?: {
    /** Changes the ticks asked for (CHURN_PER_SECOND × CHURN_SECONDS). */
    readonly asked: number;
    /** Changes a tick did not start: MAX_IN_FLIGHT were unanswered, or no node was free. */
    readonly skipped: number;
    /** Changes the BMCs made (Chassis Control answered OK), the probe's included. */
    readonly changes: number;
    /** Chassis Control answered 0xC0 (node busy): the BMC was still changing; not counted as changes. */
    readonly busy: number;
    /** Chassis Control not answered within the client's tries. */
    readonly unanswered: number;
    /** From the first tick to the last one's start (the stated duration, when the ticks keep time). */
    readonly seconds: number;
    /** From the first tick until the last change was answered. */
    readonly settledSeconds: number;
    readonly lagMs: { readonly p50: number; readonly p99: number; readonly max: number };
    /** Keys pressed during the churn, and their Event Timing durations (key to next paint). */
    readonly keys: number;
    readonly keyToPaintMs: { readonly p50: number; readonly p99: number; readonly max: number };
    readonly longTasks: number;
    readonly longestTaskMs: number;
    readonly probeMs: readonly number[];
    /** Probe changes the page did not show within PROBE_TIMEOUT_MS. */
    readonly probesMissed: number;
    /** From the last change's answer until the page showed every BMC's power; null: not within CONSISTENT_WITHIN_MS. */
    readonly consistentAfterMs: number | null;
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
  const context = await browser.createBrowserContext();
  try {
    const page = await newPage(context);
    // From the document's first script on, each frame checks the rows and keeps the time of the first
    // one that has them all (as a raf poll would, without depending on when the bench asks).
    await page.evaluateOnNewDocument((count: number) => {
      const g = globalThis as unknown as Record<string, unknown> & {
        document: { querySelectorAll(s: string): { length: number } };
        performance: { now(): number };
        requestAnimationFrame(callback: () => void): void;
      };
      const frame = (): void => {
        if (g.document.querySelectorAll('#nodes tr').length === count) g['__allRowsAt'] = g.performance.now();
        else g.requestAnimationFrame(frame);
      };
      g.requestAnimationFrame(frame);
    }, WEB_UI_NODES);
    await page.goto(url);
    const handle = await page.waitForFunction(() => (globalThis as unknown as { __allRowsAt?: number }).__allRowsAt ?? false, { polling: 50, timeout: 30_000 });
    return (await handle.jsonValue()) as number;
  } finally {
    await context.close();
  }
}

async function newPage(context: Awaited<ReturnType<Browser['createBrowserContext']>>): Promise<Page> {
  const page = await context.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  return page;
}

/** Keys pressed into the create form's name field during the churn (Event Timing measures each). */
const KEY_EVERY_MS = 200;

async function churn(page: Page, bmcs: readonly IpmiClient[], names: readonly string[], progress: (m: string) => void): Promise<NonNullable<WebUiReport['churn']>> {
  const power = names.map(() => 'off' as 'on' | 'off');
  const probeMs: number[] = [];
  let probesMissed = 0;
  let changes = 0;
  let keys = 0;
  let skipped = 0;
  const inFlight = new Set<number>();
  const pending = new Set<Promise<void>>();
  let busy = 0;
  let unanswered = 0;
  /**
   * Powers node `index` the other way. A BMC still busy with its last change (0xC0) or not answering
   * within the client's tries (a loaded machine) is counted and left as it was.
   */
  const flip = async (index: number): Promise<void> => {
    const want = power[index] === 'on' ? 'off' : 'on';
    inFlight.add(index);
    try {
      await (bmcs[index] as IpmiClient).chassisControl(want);
      power[index] = want;
      changes += 1;
    } catch (error) {
      if (!(error instanceof IpmiClientError)) throw error;
      if (error.code === IpmiClientErrorCode.Timeout) unanswered += 1;
      else if (error.message.includes('0xC0')) busy += 1;
      else throw error;
    } finally {
      inFlight.delete(index);
    }
  };
  /** Up to `count` distinct random nodes (never the probe, never one with a change in flight). */
  const pick = (count: number): number[] => {
    const chosen = new Set<number>();
    for (let tries = 0; chosen.size < count && tries < count * 20; tries += 1) {
      const index = randomInt(1, names.length);
      if (!inFlight.has(index)) chosen.add(index);
    }
    return [...chosen];
  };
  let failure: unknown;
  const start = (index: number): void => {
    const running: Promise<void> = flip(index)
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => pending.delete(running));
    pending.add(running);
  };
  // The user's side: the create form open, a key pressed into its name field every KEY_EVERY_MS.
  await page.click('#new-node');
  await page.focus('#create-name');
  let typing = true;
  const typist = (async () => {
    while (typing) {
      await page.keyboard.press(keys % 8 === 7 ? 'Backspace' : 'KeyX');
      keys += 1;
      await sleep(KEY_EVERY_MS);
    }
  })();
  await startProbes(page);
  progress(`web UI: ${CHURN_PER_SECOND} power changes a second on the sim BMCs for ${CHURN_SECONDS} s`);
  const started = Date.now();
  let ticking = true;
  // The probe, beside the ticks: one known node's BMC told to change once a second, and the time until the page shows it.
  const prober = (async () => {
    for (let second = 1; ticking; second += 1) {
      const t0 = Date.now();
      const before = power[0];
      await flip(0);
      if (power[0] !== before) {
        try {
          await waitForShownPower(page, names[0] as string, power[0] as string, PROBE_TIMEOUT_MS);
          probeMs.push(Date.now() - t0);
        } catch {
          probesMissed += 1;
        }
      }
      await sleep(Math.max(0, started + second * 1000 - Date.now()));
    }
  })();
  const perTick = CHURN_PER_SECOND / CHURN_TICKS;
  const ticks = CHURN_SECONDS * CHURN_TICKS;
  let seconds = 0;
  try {
    for (let tick = 0; tick < ticks; tick += 1) {
      await sleep(Math.max(0, started + (tick * 1000) / CHURN_TICKS - Date.now()));
      const room = Math.max(0, MAX_IN_FLIGHT - pending.size);
      const chosen = pick(Math.min(perTick, room));
      skipped += perTick - chosen.length;
      chosen.forEach(start);
    }
    seconds = (Date.now() - started) / 1000;
    await Promise.all([...pending]);
  } finally {
    ticking = false;
    typing = false;
    await prober;
    await typist;
  }
  if (failure !== undefined) throw failure;
  const settledSeconds = (Date.now() - started) / 1000;
  const timings = await readTimings(page);
  // Settled: no change is in flight; the power watch's next rounds reach every BMC, and the page must
  // come to show what each BMC says. A BMC that does not answer (a loaded machine) cannot be
  // compared: the page is then not called consistent.
  const actual = await Promise.all(bmcs.map((bmc) => bmc.powerStatus().catch(() => null)));
  let consistentAfterMs: number | null = null;
  const deadline = Date.now() + CONSISTENT_WITHIN_MS;
  while (consistentAfterMs === null && Date.now() < deadline) {
    const shown = await shownPowerStates(page);
    if (names.every((name, index) => actual[index] !== null && shown[name] === actual[index])) consistentAfterMs = Date.now() - started - settledSeconds * 1000;
    else await sleep(250);
  }
  const lags = [...timings.lagsMs].sort((a, b) => a - b);
  // Keys below Event Timing's 16 ms threshold report nothing: they count as 16 ms here (an upper bound).
  const keyMs = [...timings.keyDurationsMs, ...Array<number>(Math.max(0, keys - timings.keyDurationsMs.length)).fill(16)].sort((a, b) => a - b);
  return {
    asked: ticks * perTick,
    skipped,
    changes,
    busy,
    unanswered,
    seconds,
    settledSeconds,
    lagMs: { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: Math.max(0, ...lags) },
    keys,
    keyToPaintMs: { p50: quantile(keyMs, 0.5), p99: quantile(keyMs, 0.99), max: Math.max(0, ...keyMs) },
    longTasks: timings.longTasksMs.length,
    longestTaskMs: Math.max(0, ...timings.longTasksMs),
    probeMs,
    probesMissed,
    consistentAfterMs,
  };
}

export async function runWebUiBench(o: { runs: number; repoRoot: string; farmMain: string; progress: (m: string) => void }): Promise<WebUiReport> {
  if (o.runs === 0) return { skipped: 'skipped (--web-ui-runs 0)', loadsMs: [] };
  if (!existsSync(CHROMIUM)) return { skipped: `skipped: ${CHROMIUM} is missing (scripts/setup.sh installs Debian's chromium)`, loadsMs: [] };
  const main = join(o.repoRoot, 'dist', 'src', 'main.js');
  if (!existsSync(join(o.repoRoot, 'dist', 'web', 'app.js'))) return { skipped: 'skipped: the web UI is not built (npm run build:web)', loadsMs: [] };
  if (!existsSync(o.farmMain)) return { skipped: `skipped: the BMC farm is not built (${o.farmMain}; npm run build:agent)`, loadsMs: [] };
  const { default: puppeteer } = await import('puppeteer-core');
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
  const bmcs: IpmiClient[] = [];
  let farm: RunningFarm | undefined;
  try {
    o.progress(`web UI: a farm of ${WEB_UI_NODES} sim BMCs on 127.0.0.1:${settings.ipmiRange.first}-${settings.ipmiRange.last}`);
    farm = await startFarmProcess(group, o.farmMain, { FARM_BMCS: String(WEB_UI_NODES), FARM_PORTS: String(settings.ipmiRange.first), IPMI_ADDRESS: '127.0.0.1', BMC_STATE_DIR: join(dataDir, 'farm'), MACHINE: 'sim' }, 120_000);
    o.progress('web UI: migrating a fresh database, then writing 200 nodes into it');
    orchestrator = new BenchOrchestrator(group, { ...settings, port: await freeTcpPort() });
    await orchestrator.start();
    await orchestrator.stop();
    insertSeed(join(dataDir, DATABASE_FILE_NAME), seedNodes({ count: WEB_UI_NODES, fleetName, ipmiFirstPort: settings.ipmiRange.first, vncFirstPort: settings.vncRange.first, now: new Date(), ipmiPassword: BENCH_PASSWORD }));
    orchestrator = new BenchOrchestrator(group, { ...settings, port: await freeTcpPort() });
    await orchestrator.start();
    const url = `${orchestrator.http.baseUrl}/`;
    browser = await puppeteer.launch({ browser: 'chrome', executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
    // puppeteer says "Chrome/156.0…"; the section names the browser itself.
    const version = (await browser.version()).replace(/^[A-Za-z]+\//, '');
    await loadOnce(browser, url); // warm-up: the orchestrator's first page and the browser's caches
    const loadsMs: number[] = [];
    for (let run = 0; run < o.runs; run += 1) {
      loadsMs.push(await loadOnce(browser, url));
      o.progress(`web UI: load ${run + 1}/${o.runs}: ${loadsMs[loadsMs.length - 1]?.toFixed(0)} ms`);
    }
    const context = await browser.createBrowserContext();
    const page = await newPage(context);
    await page.goto(url);
    await page.waitForFunction(
      (want: string) => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('#count')?.textContent?.includes(want) === true,
      { polling: 50, timeout: 30_000 },
      `${WEB_UI_NODES} nodes`,
    );
    const names = Array.from({ length: WEB_UI_NODES }, (_, i) => `node-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < WEB_UI_NODES; i += 1) bmcs.push(await IpmiClient.connect({ host: '127.0.0.1', port: settings.ipmiRange.first + i, user: BENCH_USER, password: BENCH_PASSWORD, timeoutMs: 2_000, retries: 3 }));
    const result = await churn(page, bmcs, names, o.progress);
    await context.close();
    const ranAt = new Date().toISOString();
    const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB`;
    return { chromium: version, ranAt, machine, loadAverage: [loadAtStart, loadavg()[0] ?? 0], loadsMs, churn: result };
  } finally {
    await Promise.all(bmcs.map((bmc) => bmc.close().catch(() => undefined)));
    await browser?.close();
    await orchestrator?.stop();
    await farm?.stop();
    await group.stopAll();
    uninstall();
  }
}
