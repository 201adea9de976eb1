/**
 * What the sim-fleet bench (sim-fleet-bench.ts) does to and reads from a fleet of farm sim nodes:
 * API calls fanned out a few at a time, walks over the paginated list, every BMC's power through
 * the project's IPMI client, farms' own rosters (farm-ctl ls through docker exec, as the
 * orchestrator reads them), the database's rows and leases, and the farm containers' memory and CPU.
 */
import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import { IpmiClient } from '../src/client/ipmi-client';
import { ChassisCmd, NetFn } from '../src/protocol/netfn';
import { sweepOrder } from './farm-sweep';
import { docker, type HttpClient } from './fleet-processes';
import { processTree, rssKiB, treeCpuMs } from './farm-processes';
import type { ProcessGroup } from './processes';

export interface BatchNode { readonly id: string; readonly name: string; readonly ipmi: { readonly host: string; readonly port: number; readonly user: string }; readonly redfish: { readonly host: string; readonly port: number } | null }
export interface ListedNode { readonly name: string; readonly powerState: string; readonly state: string; readonly farm: string | null }

/** Runs `fn` on every item, `concurrency` at a time; the failures, never thrown. */
export async function fanOut<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<{ item: T; error: string }[]> {
  const failures: { item: T; error: string }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failures.push({ item, error: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return failures;
}

/** One API call that must answer `status`; its JSON body. */
export async function expectStatus<T>(http: HttpClient, method: string, path: string, status: number, body?: unknown): Promise<T> {
  const r = await http.send(method, path, body);
  if (r.status !== status) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
  return (r.body === '' ? undefined : JSON.parse(r.body)) as T;
}

export interface PageWalk {
  readonly query: string;
  readonly pages: number;
  readonly items: number;
  /** Client-side time of each page's request, ms. */
  readonly pageMs: number[];
  readonly names: string[];
}

/** Walks every page of GET /api/v1/nodes?query, following nextCursor. */
export async function walkPages(http: HttpClient, query: string, maxPages = 100_000): Promise<PageWalk> {
  const pageMs: number[] = [];
  const names: string[] = [];
  let cursor: string | null = null;
  do {
    const path: string = `/api/v1/nodes?${query}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const t0 = performance.now();
    const page: { items: ListedNode[]; nextCursor: string | null } = await expectStatus(http, 'GET', path, 200);
    pageMs.push(performance.now() - t0);
    names.push(...page.items.map((n) => n.name));
    cursor = page.nextCursor;
  } while (cursor !== null && pageMs.length < maxPages);
  return { query, pages: pageMs.length, items: names.length, pageMs, names };
}

export interface PowerSweep {
  readonly attempted: number;
  readonly on: number;
  readonly off: number;
  readonly failures: string[];
  readonly ms: number;
  /** The ports whose BMC said on. */
  readonly onPorts: number[];
}

/** Get Chassis Status in a session of the project's client on every port, `concurrency` at a time, spread over the range. */
export async function powerSweep(ports: readonly number[], credentials: { user: string; password: string }, concurrency = 64): Promise<PowerSweep> {
  const started = Date.now();
  let on = 0;
  let off = 0;
  const onPorts: number[] = [];
  const order = sweepOrder(ports.length, concurrency).map((i) => ports[i]!);
  const failures = await fanOut(order, concurrency, async (port) => {
    const client = await IpmiClient.connect({ host: '127.0.0.1', port, ...credentials, timeoutMs: 2_000, retries: 3 });
    try {
      if ((await client.powerStatus()) === 'on') { on += 1; onPorts.push(port); } else off += 1;
    } finally {
      await client.close();
    }
  });
  return { attempted: ports.length, on, off, failures: failures.map((f) => `port ${f.item}: ${f.error}`), ms: Date.now() - started, onPorts };
}

/** Set Power Restore Policy "previous" (IPMI v2.0 section 28.8, policy 01b) on every port, `concurrency` at a time; the failures. */
export async function restorePrevious(ports: readonly number[], credentials: { user: string; password: string }, concurrency = 64): Promise<string[]> {
  const failures = await fanOut(ports, concurrency, async (port) => {
    const client = await IpmiClient.connect({ host: '127.0.0.1', port, ...credentials, timeoutMs: 2_000, retries: 3 });
    try {
      await client.requestOk(NetFn.Chassis, ChassisCmd.SetPowerRestorePolicy, Buffer.from([0x01]), 'Set Power Restore Policy');
    } finally {
      await client.close();
    }
  });
  return failures.map((f) => `port ${f.item}: ${f.error}`);
}

/** The fleet's farm containers (`<fleet>_farm-N`), running or not. */
export async function farmContainers(group: ProcessGroup, fleetName: string): Promise<{ name: string; state: string }[]> {
  const out = (await docker(group, ['ps', '-a', '--filter', `name=^/${fleetName}_farm-`, '--format', '{{.Names}} {{.State}}'])).stdout;
  return out.trim().split('\n').filter(Boolean).map((line) => ({ name: line.split(' ')[0] ?? '', state: line.split(' ')[1] ?? '' })).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}

/** The BMC names a farm hosts, from its own control (farm-ctl ls, as the orchestrator reads it). */
export async function farmRoster(group: ProcessGroup, container: string): Promise<string[]> {
  const r = await docker(group, ['exec', container, 'node', '/opt/bmcfleet/agent/farm/farm-ctl.js', 'ls'], 120_000);
  if (r.code !== 0) throw new Error(`farm-ctl ls in ${container}: ${r.stderr.trim()}`);
  return (JSON.parse(r.stdout) as { bmcs: { name: string }[] }).bmcs.map((b) => b.name);
}

/** Every BMC name every farm of the fleet hosts (duplicates kept: they are what is counted). */
export async function allFarmBmcs(group: ProcessGroup, fleetName: string): Promise<string[]> {
  const names: string[] = [];
  for (const farm of await farmContainers(group, fleetName)) if (farm.state === 'running') names.push(...await farmRoster(group, farm.name));
  return names;
}

export interface DatabaseCounts {
  readonly nodes: number;
  readonly leases: number;
  readonly notRunning: number;
  /** Nodes whose IPMI or Redfish lease is missing, or that hold more than one of a kind. */
  readonly leaseMismatches: number;
  readonly duplicatePorts: number;
}

/** Counts read straight from the orchestrator's SQLite file (read-only; it may be running). */
export function databaseCounts(file: string): DatabaseCounts {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const one = (sql: string): number => (db.prepare(sql).get() as { c: number }).c;
    return {
      nodes: one('SELECT count(*) AS c FROM "Node"'),
      leases: one('SELECT count(*) AS c FROM "PortLease"'),
      notRunning: one(`SELECT count(*) AS c FROM "Node" WHERE "state" <> 'running'`),
      leaseMismatches: one(`SELECT count(*) AS c FROM "Node" n WHERE (SELECT count(*) FROM "PortLease" l WHERE l."nodeId" = n."id" AND l."kind" = 'ipmi') <> 1 OR (SELECT count(*) FROM "PortLease" l WHERE l."nodeId" = n."id" AND l."kind" = 'redfish') <> 1`),
      duplicatePorts: one('SELECT count(*) AS c FROM (SELECT "kind", "port" FROM "PortLease" GROUP BY "kind", "port" HAVING count(*) > 1)'),
    };
  } finally {
    db.close();
  }
}

export interface FarmUsage {
  readonly name: string;
  readonly bmcs: number;
  readonly rssKiB: number;
  readonly cpuMs: number;
}

/** RSS and CPU time so far of each running farm container's processes (host /proc, by the container's main PID). */
export async function farmUsage(group: ProcessGroup, fleetName: string): Promise<FarmUsage[]> {
  const out: FarmUsage[] = [];
  for (const farm of await farmContainers(group, fleetName)) {
    if (farm.state !== 'running') continue;
    const pid = Number((await docker(group, ['inspect', '--format', '{{.State.Pid}}', farm.name])).stdout.trim());
    if (!(pid > 0)) continue;
    out.push({ name: farm.name, bmcs: (await farmRoster(group, farm.name)).length, rssKiB: processTree(pid).reduce((a, p) => a + rssKiB(p), 0), cpuMs: treeCpuMs(pid) });
  }
  return out;
}
