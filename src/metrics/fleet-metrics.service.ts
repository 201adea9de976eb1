/**
 * The orchestrator's Prometheus metrics, on a registry of its own (not prom-client's global one, so
 * every application instance, e.g. one per test, starts from zero and never collides): Node.js
 * process metrics, HTTP latency, the fleet's nodes by state (read from the database at scrape time),
 * reconciler runs and repairs, and IPMI errors.
 */
import { Injectable, Logger } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PrismaService } from '../database/prisma.service';
import type { NodeState, PowerState } from '../nodes/node.model';

/** Prefix of the orchestrator's own metric names (process metrics keep their standard names). */
export const METRIC_PREFIX = 'bmcfleet_';

export const RECONCILE_OUTCOMES = ['ok', 'error'] as const;
export type ReconcileOutcome = (typeof RECONCILE_OUTCOMES)[number];

/**
 * resumed: a failed node whose container runs, completed (networks) and marked running; unpaused: a
 * paused container's processes let run again; rolled-back: a create that never answered, undone.
 */
export const REPAIR_KINDS = ['restarted', 'recreated', 'resumed', 'unpaused', 'adopted', 'removed-orphan', 'lease-freed', 'finished-delete', 'rolled-back'] as const;
export type RepairKind = (typeof REPAIR_KINDS)[number];

export type IpmiOperation = 'power-status' | 'power-action';

/** Listed so every state has a series (0 included) even before a node is in it. */
const POWER_STATES: readonly PowerState[] = ['on', 'off', 'unknown'];
const NODE_STATES: readonly NodeState[] = ['creating', 'running', 'deleting', 'failed'];

/** API calls: 5 ms (GET /nodes) to 30 s (a create that waits for Docker). */
const HTTP_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A run: milliseconds when nothing drifted, up to minutes when many BMCs time out. */
const RECONCILE_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

@Injectable()
export class FleetMetrics {
  readonly registry = new Registry();
  private readonly logger = new Logger(FleetMetrics.name);
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly reconcileRuns: Counter<'outcome'>;
  private readonly reconcileRepairs: Counter<'kind'>;
  private readonly reconcileDuration: Histogram<string>;
  private readonly ipmiErrors: Counter<'operation' | 'code'>;
  private readonly faultsFired: Counter<'node' | 'kind'>;
  private readonly faultRules: Gauge<'node'>;

  constructor(private readonly prisma: PrismaService) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    this.httpDuration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP requests served by the orchestrator API, by method, route template and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_BUCKETS_SECONDS,
      registers,
    });

    const metrics = this;
    new Gauge({
      name: `${METRIC_PREFIX}nodes_by_power_state`,
      help: 'Nodes by the power state last read from their BMC (on, off, unknown)',
      labelNames: ['power_state'],
      registers,
      async collect() {
        await metrics.collectCounts(this, 'powerState', 'power_state', POWER_STATES);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}nodes_by_state`,
      help: 'Nodes by lifecycle state (creating, running, deleting, failed)',
      labelNames: ['state'],
      registers,
      async collect() {
        await metrics.collectCounts(this, 'state', 'state', NODE_STATES);
      },
    });

    this.reconcileRuns = new Counter({
      name: `${METRIC_PREFIX}reconcile_runs_total`,
      help: 'Reconciler runs, by outcome (error: at least one repair or check failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.reconcileRepairs = new Counter({
      name: `${METRIC_PREFIX}reconcile_repairs_total`,
      help: 'Repairs made by the reconciler, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: `${METRIC_PREFIX}reconcile_duration_seconds`,
      help: 'Duration of reconciler runs',
      buckets: RECONCILE_BUCKETS_SECONDS,
      registers,
    });
    this.ipmiErrors = new Counter({
      name: `${METRIC_PREFIX}ipmi_errors_total`,
      help: "Failed IPMI calls to nodes' BMCs, by operation and error code",
      labelNames: ['operation', 'code'],
      registers,
    });

    this.faultsFired = new Counter({
      name: `${METRIC_PREFIX}node_faults_fired_total`,
      help: "Times a node's fault rules acted, by node and action kind (as last read from its agent)",
      labelNames: ['node', 'kind'],
      registers,
    });
    this.faultRules = new Gauge({
      name: `${METRIC_PREFIX}node_fault_rules`,
      help: 'Fault rules a node has, by node (nodes being watched for faults only)',
      labelNames: ['node'],
      registers,
    });

    // Zero series for every known label value, so rate() and alerts see them before the first event.
    for (const outcome of RECONCILE_OUTCOMES) this.reconcileRuns.inc({ outcome }, 0);
    for (const kind of REPAIR_KINDS) this.reconcileRepairs.inc({ kind }, 0);
  }

  /** Everything, in the text exposition format; node counts are read from the database now. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** `route` is the route template (e.g. /api/v1/nodes/:name), never the raw URL. */
  recordHttpRequest(method: string, route: string, statusCode: number, durationSeconds: number): void {
    this.httpDuration.observe({ method, route, status_code: String(statusCode) }, durationSeconds);
  }

  recordReconcile(outcome: ReconcileOutcome, durationSeconds: number): void {
    this.reconcileRuns.inc({ outcome });
    this.reconcileDuration.observe(durationSeconds);
  }

  recordRepair(kind: RepairKind): void {
    this.reconcileRepairs.inc({ kind });
  }

  recordIpmiError(operation: IpmiOperation, code: string): void {
    this.ipmiErrors.inc({ operation, code });
  }

  recordFaultsFired(node: string, kind: string, count: number): void {
    this.faultsFired.inc({ node, kind }, count);
  }

  /** null: the node is no longer watched (its series goes). */
  setFaultRules(node: string, rules: number | null): void {
    if (rules === null) this.faultRules.remove({ node });
    else this.faultRules.set({ node }, rules);
  }

  /** Sets a gauge to the node count per value of `column`; a database failure leaves it empty. */
  private async collectCounts(
    gauge: Gauge<string>,
    column: 'state' | 'powerState',
    label: string,
    known: readonly string[],
  ): Promise<void> {
    gauge.reset();
    let groups: { value: string; count: number }[];
    try {
      const rows = await this.prisma.node.groupBy({ by: [column], _count: { _all: true } });
      groups = rows.map((row) => ({ value: row[column], count: row._count._all }));
    } catch (error) {
      // A scrape still returns the other metrics; the missing series tell the story.
      this.logger.warn(`could not count nodes by ${column}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    for (const value of known) gauge.set({ [label]: value }, 0);
    for (const { value, count } of groups) gauge.set({ [label]: value }, count);
  }
}
