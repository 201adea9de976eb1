/**
 * The sim-fleet section of docs/benchmarks.md (sim-fleet-bench.ts measures it): 10,000 farm sim
 * nodes through the orchestrator's HTTP API. Pure.
 */
import type { DatabaseCounts, FarmUsage, PowerSweep } from './sim-fleet-checks';
import { formatCount, formatMs, type Summary } from './stats';

export const SIM_FLEET_TITLE = '## Sim fleet: 10,000 sim nodes in farms through the HTTP API';
/** Nodes per POST /api/v1/node-batches of the bench (the API takes up to 10,000). */
export const SIM_FLEET_BATCH = 1_000;
export const DEFAULT_SIM_NODES = 10_000;
/** Issue target for a page of the paginated list. */
export const PAGE_TARGET_MS = 50;

export const SIM_FLEET_OPTIONS_HELP = [
  `--sim-nodes N     sim nodes of the sim-fleet part (default ${DEFAULT_SIM_NODES}; 0 skips it): batch create, pages, power, kills, delete through the API`,
  '--only-sim-fleet   measure only the sim-fleet part; rewrite only its section of docs/benchmarks.md',
];

export interface PageFigures {
  readonly query: string;
  readonly pages: number;
  readonly items: number;
  readonly expected: number;
  readonly distinct: number;
  readonly summary: Summary;
}

export type SimFleetSweep = Omit<PowerSweep, 'failures' | 'onPorts'> & { readonly failures: string[]; readonly failed: number };
type Sweep = SimFleetSweep;
interface Memory { readonly farms: FarmUsage[]; readonly orchestratorRssKiB: number }

export interface SimFleetResult {
  skipped?: string;
  nodes?: number;
  batchSize?: number;
  portRange?: string;
  errors?: string[];
  create?: { batchMs: number[]; totalMs: number; answered: number; withAddresses: number; distinctIpmiPorts: number; orchestratorCpuMs: number; farms: number };
  memoryAfterCreate?: Memory;
  memoryAtEnd?: Memory;
  pages?: PageFigures[];
  power?: { apiMs: number; apiFailures: number; firstApiFailure: string | undefined; orchestratorCpuMs: number; sweep: Sweep; reconcileMs: number; reconcileErrors: number; listedOn: number };
  farmKill?: { farm: string; bmcs: number; onBefore: number; onAgain: number; reconcileMs: number; repairs: string[]; reconcileErrors: number; sweep: Sweep; userSample: number; userLogins: number };
  orchestratorKill?: {
    killAfterMs: number; answeredBeforeKill: string | null; restartMs: number; reconcileMs: number; reconcileErrors: number; batch: number; late: number; rows: number;
    farmBmcs: number; duplicateBmcs: number; strayBmcs: number; missingBmcs: number; db: DatabaseCounts; lateAnswering?: number;
  };
  remove?: { deleted: number; apiMs: number; apiFailures: number; firstApiFailure: string | undefined; orchestratorCpuMs: number; rowsListed: number; db: DatabaseCounts; farmBmcsLeft: number; probed: number; probedAnswering: number };
  load?: [number, number];
  seconds?: number;
}

const mib = (kib: number): string => `${formatCount(kib / 1024)} MiB`;
const verdict = (met: boolean): string => (met ? 'met' : '**not met**');
const perSecond = (count: number, ms: number): string => `${formatCount(count / (ms / 1000))}/s`;
const cpuText = (ms: number, wallMs: number): string => `${formatCount(ms / 1000)} s CPU (${((ms / wallMs) * 100).toFixed(0)} % of a core over ${formatCount(wallMs / 1000)} s)`;

function memoryRows(label: string, m: Memory | undefined): string[] {
  if (!m) return [];
  const total = m.farms.reduce((a, f) => a + f.rssKiB, 0);
  const bmcs = m.farms.reduce((a, f) => a + f.bmcs, 0);
  return [
    `| RSS ${label}: farms | ${mib(total)} for ${formatCount(bmcs)} BMCs in ${m.farms.length} farms (${bmcs > 0 ? (total / bmcs).toFixed(0) : '–'} KiB per BMC, each with its IPMI socket and Redfish listener); ${m.farms.map((f) => `${f.name.replace(/^.*_/, '')} ${mib(f.rssKiB)}`).join(', ')} |`,
    `| RSS ${label}: orchestrator | ${mib(m.orchestratorRssKiB)} |`,
  ];
}

function sweepText(s: Sweep, want: 'on' | 'off'): string {
  return `${formatCount(s.on + s.off)} / ${formatCount(s.attempted)} answered, ${formatCount(want === 'on' ? s.on : s.off)} ${want}, in ${formatMs(s.ms)}${s.failed > 0 ? `; ${s.failed} failed, first: ${s.failures[0]}` : ''}`;
}

/** `measuredOn`: date, machine and load of this part's run. */
export function renderSimFleet(r: SimFleetResult, measuredOn: string): string {
  const out: string[] = [SIM_FLEET_TITLE, '', `Measured ${measuredOn}.`, ''];
  if (r.skipped) return [...out, `Skipped: ${r.skipped}.`, ''].join('\n');
  const n = r.nodes ?? 0;
  out.push(`A fresh orchestrator (\`node dist/src/main.js\`, SIM_PLACEMENT=farm, FARM_CAPACITY 2,000, IPMI_PORT_RANGE and`,
    `REDFISH_PORT_RANGE both ${r.portRange}: UDP and TCP ports are apart) with the real Docker engine; everything through its`,
    `HTTP API: ${formatCount(n)} sim nodes made by \`POST /api/v1/node-batches\` of ${formatCount(r.batchSize ?? 0)}, the paginated list walked`,
    `page by page (each page one request, client-side time), every node powered on with \`POST /api/v1/nodes/{name}/power\``,
    `(${16} at a time) and read back by the project's IPMI client (a session and Get Chassis Status on every BMC, 64 at a time),`,
    'one farm container SIGKILLed, the orchestrator SIGKILLed in the middle of a batch, and every node deleted',
    `(\`DELETE /api/v1/nodes/{name}?purge=true\`, 32 at a time). The machine is shared: load average ${r.load ? `${r.load[0].toFixed(1)} at the start, ${r.load[1].toFixed(1)} at the end` : '–'}; the whole part took ${formatCount(r.seconds ?? 0)} s.`, '');
  const targets: string[] = [];
  const c = r.create;
  if (c) targets.push(`- **${formatCount(n)} nodes created through the API, every answer with every node's addresses**: ${formatCount(c.answered)} answered, ${formatCount(c.withAddresses)} with IPMI and Redfish address, ${formatCount(c.distinctIpmiPorts)} distinct IPMI ports — ${verdict(c.answered === n && c.withAddresses === n && c.distinctIpmiPorts === n)}.`);
  const slowest = (r.pages ?? []).filter((p) => p.query.includes(`limit=100`) && !p.query.includes('limit=1000')).reduce((a, p) => Math.max(a, p.summary.p99), 0);
  if (r.pages?.length) targets.push(`- **A page of the list (100 nodes) ≤ ${PAGE_TARGET_MS} ms**: p99 ${formatMs(slowest)} at worst over the filters — ${verdict(slowest <= PAGE_TARGET_MS && r.pages.every((p) => p.items === p.expected && p.distinct === p.items))}.`);
  const p = r.power;
  if (p) targets.push(`- **Every node powered on through the API, seen on over IPMI and in the list**: ${formatCount(n - p.apiFailures)} / ${formatCount(n)} API calls, ${formatCount(p.sweep.on)} BMCs say on, ${formatCount(p.listedOn)} listed with powerState=on — ${verdict(p.apiFailures === 0 && p.sweep.on === n && p.listedOn === n)}.`);
  const f = r.farmKill;
  if (f) targets.push(`- **A SIGKILLed farm comes back with every BMC, its power and users**: ${f.farm} (${formatCount(f.bmcs)} BMCs) ${f.repairs.join(', ') || 'not repaired'}; ${formatCount(f.sweep.on + f.sweep.off)} answer, ${formatCount(f.onAgain)} of the ${formatCount(f.onBefore)} that were on are on again (restore policy "previous", set over IPMI before the kill); ${f.userLogins} / ${f.userSample} logins as a user added by ipmitool before the kill — ${verdict(f.sweep.on + f.sweep.off === f.bmcs && f.onAgain === f.onBefore && f.userLogins === f.userSample && f.reconcileErrors === 0)}.`);
  const k = r.orchestratorKill;
  if (k) targets.push(`- **An orchestrator SIGKILLed in a batch: every node whole or absent, none twice**: ${formatCount(k.late)} of the batch of ${formatCount(k.batch)} kept; ${formatCount(k.rows)} rows, ${formatCount(k.farmBmcs)} BMCs in farms, ${k.duplicateBmcs} twice, ${k.strayBmcs} without a row, ${k.missingBmcs} rows without a BMC, ${k.db.notRunning} rows not running, ${k.db.leaseMismatches} without exactly one IPMI and one Redfish lease, ${k.db.duplicatePorts} ports leased twice — ${verdict([0, k.batch].includes(k.late) && k.farmBmcs === k.rows && k.duplicateBmcs + k.strayBmcs + k.missingBmcs + k.db.notRunning + k.db.leaseMismatches + k.db.duplicatePorts === 0 && (k.late === 0 || k.lateAnswering === k.late))}.`);
  const d = r.remove;
  if (d) targets.push(`- **Every node deleted through the API; no BMC, lease or row left**: ${formatCount(d.deleted - d.apiFailures)} / ${formatCount(d.deleted)} deletes; ${d.rowsListed} listed, ${d.db.nodes} rows and ${d.db.leases} leases in the database, ${d.farmBmcsLeft} BMCs in the farms, ${d.probedAnswering} of ${d.probed} sampled ports answering — ${verdict(d.apiFailures === 0 && d.rowsListed + d.db.nodes + d.db.leases + d.farmBmcsLeft + d.probedAnswering === 0)}.`);
  out.push(...targets, '');
  for (const e of r.errors ?? []) out.push(`- Failed: ${e}`);
  if (r.errors?.length) out.push('');
  const rows: string[] = [];
  if (c) {
    const b = summarize(c.batchMs);
    rows.push(`| Create: ${c.batchMs.length} batches of ${formatCount(r.batchSize ?? 0)} | ${formatMs(c.totalMs)} in all (${perSecond(c.answered, c.totalMs)}); a batch median ${formatMs(b.median)}, slowest ${formatMs(b.max)}, first ${formatMs(c.batchMs[0] ?? NaN)} (its farm container started too); ${c.farms} farm containers |`,
      `| Create: orchestrator CPU | ${cpuText(c.orchestratorCpuMs, c.totalMs)} |`);
  }
  rows.push(...memoryRows('after the creates', r.memoryAfterCreate));
  for (const pg of r.pages ?? []) rows.push(`| \`GET /api/v1/nodes?${pg.query}\` | ${pg.pages} pages, ${formatCount(pg.items)} nodes (${formatCount(pg.expected)} expected, ${formatCount(pg.distinct)} distinct); a page median ${formatMs(pg.summary.median)}, p99 ${formatMs(pg.summary.p99)}, max ${formatMs(pg.summary.max)} |`);
  if (p) {
    rows.push(`| Power on through the API | ${formatMs(p.apiMs)} (${perSecond(n, p.apiMs)}), ${p.apiFailures} failed${p.firstApiFailure ? ` (first: ${p.firstApiFailure})` : ''}; orchestrator ${cpuText(p.orchestratorCpuMs, p.apiMs + p.sweep.ms + p.reconcileMs)} |`,
      `| Power read back, project IPMI client | ${sweepText(p.sweep, 'on')} |`,
      `| \`POST /api/v1/reconcile\` (every farm's power in one call each) | ${formatMs(p.reconcileMs)}, ${p.reconcileErrors} errors |`);
  }
  if (f) rows.push(`| Farm SIGKILLed, \`POST /api/v1/reconcile\` | ${formatMs(f.reconcileMs)} (farm re-made on its volume, its BMCs re-added); then ${sweepText(f.sweep, 'on')} |`);
  if (k) rows.push(`| Orchestrator SIGKILLed ${formatMs(k.killAfterMs)} into a batch of ${formatCount(k.batch)} | ${k.answeredBeforeKill === null ? 'unanswered' : `answered ${k.answeredBeforeKill} before the kill`}; restart to /healthz ${formatMs(k.restartMs)}, reconcile ${formatMs(k.reconcileMs)} (${k.reconcileErrors} errors)${k.lateAnswering === undefined ? '' : `; ${formatCount(k.lateAnswering)} of the kept batch's BMCs answer`} |`);
  rows.push(...memoryRows('at the end (before the deletes)', r.memoryAtEnd));
  if (d) rows.push(`| Delete every node | ${formatMs(d.apiMs)} (${perSecond(d.deleted, d.apiMs)}), ${d.apiFailures} failed${d.firstApiFailure ? ` (first: ${d.firstApiFailure})` : ''}; orchestrator ${cpuText(d.orchestratorCpuMs, d.apiMs)} |`);
  if (rows.length) out.push('| | |', '|---|---|', ...rows, '');
  return out.join('\n');
}

function summarize(values: readonly number[]): { median: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { median: s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN, max: s.length ? s[s.length - 1]! : NaN };
}

/** Replaces the sim-fleet section of an existing report, or inserts it before "## Reproduce". */
export function replaceSimFleetSection(doc: string, section: string): string {
  const start = doc.indexOf(`\n${SIM_FLEET_TITLE.split(':')[0]}:`);
  if (start >= 0) {
    const end = doc.indexOf('\n## ', start + 1);
    return `${doc.slice(0, start + 1)}${section.replace(/\n*$/, '\n')}${end < 0 ? '' : `\n${doc.slice(end + 1)}`}`;
  }
  const at = doc.indexOf('\n## Reproduce\n');
  if (at < 0) return `${doc.replace(/\n*$/, '\n\n')}${section}`;
  return `${doc.slice(0, at + 1)}${section.replace(/\n*$/, '\n\n')}${doc.slice(at + 1)}`;
}
