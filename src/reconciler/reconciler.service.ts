/**
 * Repairs drift between the database and what the runtime runs (design.md section 3): finishes
 * deletes a crash interrupted, re-creates or restarts runtime nodes, adopts or removes orphan ones,
 * frees stale leases, and refreshes power states from the BMCs. The decisions are planReconcile's
 * (pure); this service gathers the facts and carries the plan out.
 *
 * One run at a time: a reconcileNow() during a run joins it, a timer tick during a run is skipped.
 * It runs once at start and then every RECONCILE_INTERVAL_S (0: only at start and on request).
 */
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { BmcUnreachableError, NodeBmc } from '../bmc/node-bmc';
import { AppConfig } from '../config/app-config';
import { PrismaService } from '../database/prisma.service';
import { Prisma } from '../generated/prisma/client';
import { FleetMetrics, type RepairKind } from '../metrics/fleet-metrics.service';
import { NodeEvents } from '../nodes/fleet-context';
import { NodeDeployer } from '../nodes/node-deployer';
import { NodeRuntime, type OwnedNode } from '../runtime/node-runtime';
import { LEASE_KINDS, leasesText } from '../nodes/lease-kinds';
import { ANY_HOST } from '../nodes/port-leases.service';
import { bmcTargetOf, type NodeWithLeases, type PowerState } from '../nodes/node.model';
import { messageOf } from '../common/errors/message-of';
import { AdoptedNode, AdoptionContext, nodeFromContainer } from './node-from-container';
import { planReconcile, type ContainerRepair, type LeaseRow, type ReconcilePlan } from './reconcile-plan';
import { FarmReconciler } from './farm-reconciler';
import { HostAddresses } from '../nodes/host-addresses.service';

/** Name of the interval in the SchedulerRegistry. */
export const RECONCILE_INTERVAL_NAME = 'reconciler';
/** A "creating"/"deleting" row untouched this long is no longer a request's (a create waits 90 s for its BMC). */
export const SETTLE_MS = 5 * 60_000;
/** BMC sessions at once during the power refresh: enough for 200 nodes, gentle on a 2-core host. */
export const POWER_CHECK_CONCURRENCY = 8;

export interface ReconcileRepair {
  readonly kind: RepairKind;
  /** The node's name, or the runtime node's name when no node is known. */
  readonly node: string;
  readonly message: string;
}

export interface ReconcileError {
  /** The node's name, the runtime node's name, or null for a failure of the whole run. */
  readonly node: string | null;
  readonly message: string;
}

export interface ReconcileReport {
  readonly startedAt: string;
  readonly durationMs: number;
  readonly repairs: readonly ReconcileRepair[];
  readonly errors: readonly ReconcileError[];
  /** Drift left alone on purpose (e.g. a port outside a range that was narrowed). */
  readonly warnings: readonly string[];
}

const REPAIR_KIND: Readonly<Record<ContainerRepair, RepairKind>> = { recreate: 'recreated', restart: 'restarted', resume: 'resumed', unpause: 'unpaused' };
const REPAIR_DONE: Readonly<Record<ContainerRepair, string>> = { recreate: 're-created it', restart: 'restarted it', resume: 'completed it', unpause: 'unpaused it' };
const includeLeases = { leases: true } as const;

/** Runs `work` over `items`, at most `limit` at a time. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Collects one run's outcome. */
class RunLog {
  readonly repairs: ReconcileRepair[] = [];
  readonly errors: ReconcileError[] = [];
  readonly warnings: string[] = [];
}

@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Reconciler');
  /** Rows this process did not create: anything older than its start is a crash's leftover. */
  private readonly startedAt = new Date();
  private current: Promise<ReconcileReport> | null = null;
  private stopping = false;
  private lastWarnings = '';

  constructor(
    private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly runtime: NodeRuntime,
    private readonly deployer: NodeDeployer,
    private readonly events: NodeEvents,
    private readonly bmc: NodeBmc,
    private readonly metrics: FleetMetrics,
    private readonly scheduler: SchedulerRegistry,
    private readonly farms: FarmReconciler,
    private readonly addresses: HostAddresses,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.reconcileIntervalMs > 0) {
      const timer = setInterval(() => this.tick(), this.config.reconcileIntervalMs);
      timer.unref();
      this.scheduler.addInterval(RECONCILE_INTERVAL_NAME, timer);
    }
    // The first run repairs what happened while the orchestrator was down; start-up does not wait.
    this.tick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.scheduler.doesExist('interval', RECONCILE_INTERVAL_NAME)) this.scheduler.deleteInterval(RECONCILE_INTERVAL_NAME);
    // The database closes after this hook: let a run in progress finish first.
    await this.current;
  }

  /** Runs now, or joins the run in progress; resolves with that run's report (never rejects). */
  reconcileNow(): Promise<ReconcileReport> {
    this.current ??= this.run().finally(() => {
      this.current = null;
    });
    return this.current;
  }

  /** Whether a run is in progress. */
  get isRunning(): boolean {
    return this.current !== null;
  }

  private tick(): void {
    if (this.stopping) return;
    if (this.current !== null) {
      this.logger.debug('previous run still in progress; skipping this tick');
      return;
    }
    void this.reconcileNow();
  }

  private async run(): Promise<ReconcileReport> {
    const started = new Date();
    const log = new RunLog();
    try {
      await this.runSteps(log);
    } catch (error) {
      log.errors.push({ node: null, message: `reconcile run failed: ${messageOf(error)}` });
    }
    const durationMs = Date.now() - started.getTime();
    this.metrics.recordReconcile(log.errors.length === 0 ? 'ok' : 'error', durationMs / 1000);
    for (const error of log.errors) this.logger.warn(`${error.node ?? 'run'}: ${error.message}`);
    // The same warnings come back every run until the operator acts: log them when they change.
    const warnings = log.warnings.join('\n');
    if (warnings !== this.lastWarnings) for (const warning of log.warnings) this.logger.warn(warning);
    this.lastWarnings = warnings;
    const summary = `run took ${durationMs} ms: ${log.repairs.length} repair(s), ${log.errors.length} error(s)`;
    if (log.repairs.length > 0 || log.errors.length > 0) this.logger.log(summary);
    else this.logger.debug(summary);
    return { startedAt: started.toISOString(), durationMs, repairs: log.repairs, errors: log.errors, warnings: log.warnings };
  }

  private async runSteps(log: RunLog): Promise<void> {
    // Runtime nodes first, rows second: a create writes its row before its runtime node, so every
    // listed one's row (if any) is already visible and no fresh node looks like an orphan.
    const instances = await this.runtime.list();
    const [allNodes, allLeases, farms] = await Promise.all([
      this.prisma.node.findMany({ include: includeLeases, orderBy: { name: 'asc' } }),
      this.prisma.portLease.findMany({ select: { id: true, host: true, kind: true, port: true, nodeId: true }, orderBy: { id: 'asc' } }),
      this.prisma.farm.findMany({ orderBy: { name: 'asc' } }),
    ]);
    // Farm nodes and farms' runtime nodes are the farm reconciler's (farm-reconciler.ts).
    const farmIds = new Set(farms.map((farm) => farm.id));
    const farmNodes = allNodes.filter((node) => node.farmId !== null);
    const farmNodeIds = new Set(farmNodes.map((node) => node.id));
    const nodes = allNodes.filter((node) => node.farmId === null);
    const leases = allLeases.filter((lease) => !farmNodeIds.has(lease.nodeId));
    const settledBefore = new Date(Math.max(this.startedAt.getTime(), Date.now() - SETTLE_MS));
    const plan = planReconcile({
      nodes,
      leases,
      instances: instances.filter((instance) => instance.nodeId === null || !farmIds.has(instance.nodeId)),
      ipmiPortRange: this.config.ipmiPortRange,
      vncPortRange: this.config.vncPortRange,
      redfishPortRange: this.config.redfishPortRange,
      // Settled: older than this process, or untouched for SETTLE_MS.
      settledBefore,
    });
    log.warnings.push(...plan.warnings);

    for (const node of plan.finishDeletes) await this.finishDelete(node, log);
    for (const node of plan.rollbacks) await this.rollBack(node, log);
    for (const removal of plan.removals) await this.removeInstance(removal.instance, removal.nodeId, removal.reason, log);
    for (const { lease, reason } of plan.freeLeases) await this.freeLease(lease, reason, log);
    await this.adoptOrRemove(plan, log);
    for (const { node, repair, why } of plan.repairs) await this.repair(node, repair, why, log);
    // Only nodes that needed no repair: a BMC that has just started may not answer yet.
    await forEachLimited(plan.powerChecks, POWER_CHECK_CONCURRENCY, (node) => this.refreshPower(node));
    await this.farms.run(farms, farmNodes, instances, settledBefore, log);
  }

  private recordRepair(log: RunLog, kind: RepairKind, node: string, message: string): void {
    log.repairs.push({ kind, node, message });
    this.metrics.recordRepair(kind);
  }

  /** (a) A delete a crash (or a failed container removal) left half done. */
  private async finishDelete(node: NodeWithLeases, log: RunLog): Promise<void> {
    try {
      await this.deployer.remove(node, node.purgeOnDelete);
      // deleteMany: a delete request finishing at the same moment is no error.
      await this.prisma.node.deleteMany({ where: { id: node.id, state: 'deleting' } });
    } catch (error) {
      const message = `could not finish deleting: ${messageOf(error)}`;
      log.errors.push({ node: node.name, message });
      await this.events.record(node.id, 'error', message);
      return;
    }
    const message = `finished deleting node ${node.name}${node.purgeOnDelete ? ' and its disk' : ' (disk volume kept)'}`;
    // The row and its events are gone now: the log keeps the story.
    this.logger.log(message);
    this.recordRepair(log, 'finished-delete', node.name, message);
  }

  /**
   * A create whose request died before it answered: undone as a failed create is (its runtime node,
   * the disk it made, its row and leases), so the same create can be made again and shows its password.
   */
  private async rollBack(node: NodeWithLeases, log: RunLog): Promise<void> {
    try {
      await this.deployer.discard(node);
      // Only while still "creating": a request that did finish meanwhile keeps its node.
      const gone = await this.prisma.node.deleteMany({ where: { id: node.id, state: 'creating' } });
      if (gone.count === 0) return;
    } catch (error) {
      const message = `could not roll back an interrupted create: ${messageOf(error)}`;
      log.errors.push({ node: node.name, message });
      await this.events.record(node.id, 'error', message);
      return;
    }
    const message = `rolled back the create of node ${node.name}: it never answered (the orchestrator stopped during it); create it again`;
    // The row and its events are gone now: the log keeps the story.
    this.logger.log(message);
    this.recordRepair(log, 'rolled-back', node.name, message);
  }

  /** Removes a runtime node the fleet owns but no node needs; the event goes to the node when there is one. */
  private async removeInstance(instance: OwnedNode, nodeId: string | null, reason: string, log: RunLog): Promise<void> {
    const label = instance.nodeName ?? instance.ref;
    try {
      // By its runtime id: the listing said it is the fleet's; the name may have changed hands since.
      await this.runtime.removeInstance(instance);
    } catch (error) {
      log.errors.push({ node: label, message: `could not remove ${instance.ref}: ${messageOf(error)}` });
      return;
    }
    const message = `removed ${instance.ref}: ${reason}`;
    if (nodeId === null) this.logger.log(message);
    else await this.events.record(nodeId, 'removed-orphan', message);
    this.recordRepair(log, 'removed-orphan', label, message);
  }

  /** (d) */
  private async freeLease(lease: LeaseRow, reason: string, log: RunLog): Promise<void> {
    try {
      await this.prisma.portLease.deleteMany({ where: { id: lease.id } });
    } catch (error) {
      log.errors.push({ node: null, message: `could not free ${lease.kind} lease of port ${lease.port}: ${messageOf(error)}` });
      return;
    }
    const message = `freed lease: ${reason}`;
    const owner = await this.prisma.node.findUnique({ where: { id: lease.nodeId }, select: { name: true } });
    if (owner === null) this.logger.log(message);
    else await this.events.record(lease.nodeId, 'lease-freed', message);
    this.recordRepair(log, 'lease-freed', owner?.name ?? `port ${lease.port}`, message);
  }

  /** (c) Orphans, one after the other: each adoption takes a name and ports the next must not take. */
  private async adoptOrRemove(plan: ReconcilePlan, log: RunLog): Promise<void> {
    for (const orphan of plan.orphans) {
      let observed;
      try {
        observed = await this.runtime.observe(orphan.ref);
      } catch (error) {
        log.errors.push({ node: orphan.ref, message: `could not observe orphan ${orphan.ref}: ${messageOf(error)}` });
        continue;
      }
      // Gone meanwhile, or the name changed hands since the listing.
      if (observed === null || observed.runtimeId !== orphan.runtimeId) continue;
      const decision = nodeFromContainer(observed, await this.adoptionContext(observed.host));
      if (!decision.adoptable) {
        await this.removeInstance(orphan, null, `no node row, and it cannot be adopted: ${decision.reason}`, log);
        continue;
      }
      const node = await this.adopt(decision.node, log);
      if (node === null) continue;
      if (observed.state !== 'running') await this.repair(node, 'restart', `adopted ${node.runtimeRef} was ${observed.state}`, log);
    }
  }

  /** What an orphan on `host` must not take: names, and the ports leased on its host (or on every host). */
  private async adoptionContext(host: string): Promise<AdoptionContext> {
    const [nodes, leases] = await Promise.all([
      this.prisma.node.findMany({ select: { name: true, runtimeRef: true } }),
      this.prisma.portLease.findMany({ where: { host: { in: [host, ANY_HOST] } }, select: { kind: true, port: true } }),
    ]);
    const ports = (kind: string): Set<number> => new Set(leases.filter((lease) => lease.kind === kind).map((lease) => lease.port));
    return {
      fleetName: this.config.fleetName,
      ipmiPortRange: this.config.ipmiPortRange,
      vncPortRange: this.config.vncPortRange,
      redfishPortRange: this.config.redfishPortRange,
      takenNames: new Set(nodes.map((node) => node.name)),
      takenRefs: new Set(nodes.map((node) => node.runtimeRef)),
      leasedPorts: { ipmi: ports('ipmi'), vnc: ports('vnc'), redfish: ports('redfish') },
    };
  }

  /** Creates the row and its leases in one transaction; null (and an error) when a race took them. */
  private async adopt(adopted: AdoptedNode, log: RunLog): Promise<NodeWithLeases | null> {
    const { ports, ...row } = adopted;
    let node: NodeWithLeases;
    try {
      node = await this.prisma.node.create({
        data: {
          ...row,
          state: 'running',
          leases: { create: LEASE_KINDS.flatMap((kind) => (ports[kind] === undefined ? [] : [{ host: row.host, kind, port: ports[kind] }])) },
        },
        include: includeLeases,
      });
    } catch (error) {
      const taken = error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
      log.errors.push({
        node: adopted.name,
        message: taken ? `could not adopt ${adopted.runtimeRef}: its name or ports were taken meanwhile; next run decides again` : `could not adopt ${adopted.runtimeRef}: ${messageOf(error)}`,
      });
      return null;
    }
    const message = `adopted ${node.runtimeRef} with ports ${leasesText(ports)}${ports.redfish === undefined ? ' (made before Redfish ports: its next re-create leases one)' : ''}`;
    await this.events.record(node.id, 'adopted', message);
    this.recordRepair(log, 'adopted', node.name, message);
    return node;
  }

  /** (b) ensureRunning; the row says how it went. */
  private async repair(node: NodeWithLeases, repair: ContainerRepair, why: string, log: RunLog): Promise<void> {
    // A request may have started deleting the node since the plan was made.
    const current = await this.prisma.node.findUnique({ where: { id: node.id }, include: includeLeases });
    if (current === null || current.state === 'deleting') return;
    try {
      // ensure resumes a paused runtime node, starts a stopped one and makes a missing one.
      await this.deployer.ensureRunning(current);
    } catch (error) {
      // Without the why: a node that keeps failing the same way gets one event, not one per run.
      const message = `could not run ${current.runtimeRef}: ${messageOf(error)}`;
      this.logger.debug(`${node.name}: ${why}; ${message}`);
      await this.prisma.node.updateMany({ where: { id: node.id }, data: { state: 'failed', lastError: message } });
      if (current.lastError !== message) await this.events.record(node.id, 'error', message);
      log.errors.push({ node: node.name, message });
      return;
    }
    await this.prisma.node.updateMany({ where: { id: node.id }, data: { state: 'running', lastError: null } });
    const message = `${why}; ${REPAIR_DONE[repair]}`;
    await this.events.record(node.id, 'repaired', message);
    this.recordRepair(log, REPAIR_KIND[repair], node.name, message);
  }

  /**
   * (e) Never throws. A BMC that does not answer (its runtime node cut off its network, the agent
   * hung, the login refused) makes the power state unknown and bmcReachable false, with one event
   * when it goes and one when it comes back; the runtime node itself runs, so the node stays "running".
   */
  private async refreshPower(node: NodeWithLeases): Promise<void> {
    let powerState: PowerState;
    let failure: string | null = null;
    try {
      powerState = await this.bmc.powerStatus(bmcTargetOf(node, await this.addresses.of(node.host)));
    } catch (error) {
      powerState = 'unknown';
      failure = messageOf(error);
      this.metrics.recordIpmiError('power-status', error instanceof BmcUnreachableError ? error.code : 'UNKNOWN');
      this.logger.debug(`power status of ${node.name}: ${failure}`);
    }
    const bmcReachable = failure === null;
    try {
      await this.prisma.node.updateMany({ where: { id: node.id }, data: { powerState, powerObservedAt: new Date(), bmcReachable } });
    } catch (error) {
      this.logger.warn(`could not store power state of ${node.name}: ${messageOf(error)}`);
      return;
    }
    if (failure !== null && node.bmcReachable !== false) {
      await this.events.record(node.id, 'bmc-unreachable', `the BMC did not answer the power check (${failure}); power state unknown until it does`);
    } else if (failure === null && node.bmcReachable === false) {
      await this.events.record(node.id, 'bmc-reachable', `the BMC answers again (power ${powerState})`);
    }
  }
}
