/**
 * The reconciler's part for farms: each farm's runtime node made to run (re-created on its disk
 * when it is gone), then one control call listing every BMC of the farm, and the farm's rows and
 * BMCs brought together as planFarmReconcile says, power states stored in bulk. A farm no node row
 * names any more, whose control lists no BMC, is removed with its disk (FarmsService.removeIfEmpty). Never throws: a
 * farm that does not answer makes its nodes' power unknown and is reported, the others go on.
 */
import { Injectable, Logger } from '@nestjs/common';
import { messageOf } from '../common/errors/message-of';
import { PrismaService } from '../database/prisma.service';
import { FarmsService, type FarmRow } from '../farms/farms.service';
import { FleetMetrics, type RepairKind } from '../metrics/fleet-metrics.service';
import { NodeEvents } from '../nodes/fleet-context';
import type { NodeWithLeases } from '../nodes/node.model';
import type { OwnedNode } from '../runtime/node-runtime';
import { planFarmReconcile } from './farm-reconcile-plan';

export interface FarmRunLog {
  readonly repairs: { kind: RepairKind; node: string; message: string }[];
  readonly errors: { node: string | null; message: string }[];
}

@Injectable()
export class FarmReconciler {
  private readonly logger = new Logger('FarmReconciler');

  constructor(
    private readonly prisma: PrismaService,
    private readonly farms: FarmsService,
    private readonly events: NodeEvents,
    private readonly metrics: FleetMetrics,
  ) {}

  /** One farm at a time (each call covers up to FARM_CAPACITY BMCs). */
  async run(farms: readonly FarmRow[], rows: readonly NodeWithLeases[], instances: readonly OwnedNode[], settledBefore: Date, log: FarmRunLog): Promise<void> {
    for (const farm of farms) {
      const members = rows.filter((row) => row.farmId === farm.id);
      const instance = instances.find((candidate) => candidate.nodeId === farm.id);
      try {
        // A farm no node row names any more goes (FarmsService.removeIfEmpty checks again under the placement lock).
        if (members.length === 0 && (await this.removeIfEmpty(farm, instance, log))) continue;
        await this.reconcileFarm(farm, members, instance, settledBefore, log);
      } catch (error) {
        const message = `farm ${farm.name}: ${messageOf(error)}`;
        log.errors.push({ node: farm.name, message });
        const live = members.filter((row) => row.state === 'running' || row.state === 'failed').map((row) => row.id);
        await this.prisma.node.updateMany({ where: { id: { in: live } }, data: { powerState: 'unknown', powerObservedAt: new Date(), bmcReachable: false } }).catch(() => undefined);
      }
    }
  }

  /** True when the farm was removed; false when its control still lists BMCs (strays, taken out below first). */
  private async removeIfEmpty(farm: FarmRow, instance: OwnedNode | undefined, log: FarmRunLog): Promise<boolean> {
    if (!(await this.farms.removeIfEmpty(farm.id))) return false;
    this.repair(log, 'removed-orphan', farm.name, `removed farm ${farm.name} (${instance === undefined ? 'already gone' : farm.runtimeRef}) with its disk: it hosted no node any more`);
    return true;
  }

  private repair(log: FarmRunLog, kind: RepairKind, node: string, message: string): void {
    log.repairs.push({ kind, node, message });
    this.metrics.recordRepair(kind);
  }

  private async reconcileFarm(farm: FarmRow, members: readonly NodeWithLeases[], instance: OwnedNode | undefined, settledBefore: Date, log: FarmRunLog): Promise<void> {
    if (instance?.state !== 'running') {
      await this.farms.ensureRunning(farm);
      const message = instance === undefined ? `farm ${farm.runtimeRef} was gone; re-created it on its disk` : `farm ${farm.runtimeRef} was ${instance.state}; started it`;
      this.logger.log(message);
      this.repair(log, instance === undefined ? 'recreated' : 'restarted', farm.name, message);
    }
    const listed = await this.farms.states(farm);
    const plan = planFarmReconcile(members, listed, settledBefore);

    // A batch may have written rows and added BMCs since the rows were read: those are no strays.
    const since = plan.strays.length === 0 ? [] : await this.prisma.node.findMany({ where: { id: { in: plan.strays.map((bmc) => bmc.nodeId) }, farmId: farm.id }, select: { id: true } });
    const strays = plan.strays.filter((bmc) => !since.some((row) => row.id === bmc.nodeId));
    if (strays.length > 0) {
      await this.farms.removeBmcs(farm.id, strays.map((bmc) => ({ id: bmc.nodeId, name: bmc.name })), false);
      for (const bmc of strays) this.repair(log, 'removed-orphan', bmc.name, `removed BMC ${bmc.name} (node ${bmc.nodeId}) from farm ${farm.name}: no such node of it (its state kept)`);
    }
    for (const purge of [true, false]) {
      const rows = plan.finishDeletes.filter((row) => row.purgeOnDelete === purge);
      if (rows.length === 0) continue;
      await this.farms.removeBmcs(farm.id, rows, purge);
      await this.prisma.node.deleteMany({ where: { id: { in: rows.map((row) => row.id) }, state: 'deleting' } });
      for (const row of rows) this.repair(log, 'finished-delete', row.name, `finished deleting node ${row.name} from farm ${farm.name}${purge ? ' with its state' : ''}`);
    }
    if (plan.rollbacks.length > 0) {
      await this.farms.removeBmcs(farm.id, plan.rollbacks, false);
      await this.prisma.node.deleteMany({ where: { id: { in: plan.rollbacks.map((row) => row.id) }, state: 'creating' } });
      for (const row of plan.rollbacks) this.repair(log, 'rolled-back', row.name, `rolled back the create of node ${row.name} in farm ${farm.name}: it never answered; create it again`);
    }
    if (plan.readds.length > 0) {
      const failed = await this.farms.addBmcs(farm, plan.readds);
      for (const row of plan.readds) {
        const failure = failed.find((f) => f.name === row.name);
        if (failure !== undefined) {
          log.errors.push({ node: row.name, message: `farm ${farm.name} could not start its BMC: ${failure.error}` });
          await this.prisma.node.updateMany({ where: { id: row.id }, data: { state: 'failed', lastError: failure.error } });
          continue;
        }
        const message = `farm ${farm.name} did not host its BMC; added it again`;
        await this.events.record(row.id, 'repaired', message);
        this.repair(log, 'recreated', row.name, message);
        await this.prisma.node.updateMany({ where: { id: row.id }, data: { state: 'running', lastError: null } });
      }
    }
    const now = new Date();
    for (const [state, ids] of [['on', plan.power.on], ['off', plan.power.off]] as const) {
      if (ids.length > 0) await this.prisma.node.updateMany({ where: { id: { in: [...ids] } }, data: { powerState: state, powerObservedAt: now, bmcReachable: true } });
    }
    const failedRows = members.filter((row) => row.state === 'failed' && (plan.power.on.includes(row.id) || plan.power.off.includes(row.id)));
    if (failedRows.length > 0) await this.prisma.node.updateMany({ where: { id: { in: failedRows.map((row) => row.id) }, state: 'failed' }, data: { state: 'running', lastError: null } });
  }
}
