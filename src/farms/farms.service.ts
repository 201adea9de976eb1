/**
 * Farms: `machine: sim` nodes placed as BMCs in farms (docs/adr/0016-sim-nodes-in-farms.md)
 * instead of one runtime node each. A farm is a Farm row and one runtime node (farm-spec.ts); its
 * BMCs are the nodes whose farmId names it. This service places new nodes (rows and leases written
 * in bulk, one transaction), makes farms run, and adds, removes and reads BMCs through the farm's
 * control channel (farm-control.client.ts). Crash safety is the nodes': rows first, the farm's BMC
 * second; a row left "creating" is rolled back by the reconciler, one left "deleting" finished.
 */
import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { PrismaService } from '../database/prisma.service';
import type { Farm as FarmRow, Prisma } from '../generated/prisma/client';
import { LEASE_KIND_INFO, leaseRange, type LeaseKind } from '../nodes/lease-kinds';
import { leasePortOrNull, type NodeWithLeases } from '../nodes/node.model';
import { pickFreePort, rangeText } from '../nodes/port-allocation';
import { nextMacIds } from '../nodes/port-leases.service';
import { NodeRuntime, type NodeSpec } from '../runtime/node-runtime';
import { FarmControlClient, FarmControlError, type FarmBmcRequest, type FarmBmcStatus } from './farm-control.client';
import { CoalescingBatcher } from './coalescing-batcher';
import { planPlacement } from './farm-placement';
import { farmRuntimeRef, farmSpec } from './farm-spec';

export type { FarmRow };
/** The ports a farm node leases: its BMC's IPMI and Redfish (a simulated machine has no VNC console). */
export const FARM_LEASE_KINDS: readonly LeaseKind[] = ['ipmi', 'redfish'];
/** How long a farm's control may take to answer after its runtime node (re)started. */
const FARM_READY_TIMEOUT_MS = 60_000;
const FARM_READY_POLL_MS = 250;
const includeLeases = { leases: true } as const;

/** A node row as the batch writes it (leases and farm added here). */
export type FarmNodeData = Omit<Prisma.NodeUncheckedCreateInput, 'farmId' | 'leases' | 'state'> & { id: string; name: string };

@Injectable()
export class FarmsService {
  private readonly logger = new Logger('Farms');
  /** One placement at a time: two batches never fill the same farm past its capacity. */
  private placing: Promise<unknown> = Promise.resolve();
  /** Removals from one farm that arrive while one is under way go in its next control call. */
  private readonly removals = new CoalescingBatcher<{ readonly id: string; readonly name: string }>((key, nodes) => this.removeNow(key.slice(1), nodes, key.startsWith('p')));

  constructor(
    private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly runtime: NodeRuntime,
    private readonly control: FarmControlClient,
  ) {}

  /** Whether a new sim node goes into a farm (SIM_PLACEMENT). */
  get enabled(): boolean {
    return this.config.simPlacement === 'farm';
  }

  async spec(farm: FarmRow): Promise<NodeSpec> {
    const hosts = await this.runtime.hosts();
    const cpus = Math.max(1, ...hosts.map((host) => host.cpus));
    return farmSpec(farm, { image: this.config.nodeImage, publishAddress: this.config.publishAddress, nodeDefaults: this.config.nodeDefaults, capacity: this.config.farmCapacity, cpus });
  }

  /**
   * Writes the nodes' rows ("creating", each with its farm and an IPMI and a Redfish lease) in one
   * transaction, placing them in farms with room and making Farm rows for new farms. A 503 naming
   * the range when the ports do not suffice (nothing written).
   */
  insertPlaced(rows: readonly FarmNodeData[]): Promise<NodeWithLeases[]> {
    const run = this.placing.then(() => this.insertPlacedNow(rows));
    this.placing = run.catch(() => undefined);
    return run;
  }

  private async insertPlacedNow(rows: readonly FarmNodeData[]): Promise<NodeWithLeases[]> {
    return this.prisma.$transaction(async (tx) => {
      const farms = await tx.farm.findMany({ include: { _count: { select: { nodes: true } } } });
      const placement = planPlacement(farms.map((farm) => ({ name: farm.name, used: farm._count.nodes })), this.config.farmCapacity, rows.length);
      const farmIds: string[] = [];
      for (const place of placement) {
        let id = farms.find((farm) => farm.name === place.farm)?.id;
        if (id === undefined) {
          id = randomUUID();
          await tx.farm.create({ data: { id, name: place.farm, runtimeRef: farmRuntimeRef(this.config.fleetName, place.farm) } });
          this.logger.log(`farm ${place.farm} made for ${place.count} node(s)`);
        }
        for (let i = 0; i < place.count; i += 1) farmIds.push(id);
      }
      const leases: { kind: string; port: number; nodeId: string }[] = [];
      for (const kind of FARM_LEASE_KINDS) {
        const range = leaseRange(this.config, kind);
        const taken = new Set((await tx.portLease.findMany({ where: { kind }, select: { port: true } })).map((lease) => lease.port));
        for (const row of rows) {
          const port = pickFreePort(range, taken);
          if (port === null) {
            const info = LEASE_KIND_INFO[kind];
            throw new ServiceUnavailableException(`${rows.length} sim node(s) need as many free ${info.title} ports; ${info.rangeVariable} ${rangeText(range)} has too few: widen the range, delete nodes, or make a smaller batch`);
          }
          taken.add(port);
          leases.push({ kind, port, nodeId: row.id });
        }
      }
      // Each node its own block of VM NIC MACs, as a container node has: its farm BMC reports them (bmcOf).
      const macIds = await nextMacIds(tx, rows.length);
      await tx.node.createMany({ data: rows.map((row, i) => ({ ...row, state: 'creating', farmId: farmIds[i] as string, macId: macIds[i] as number })) });
      await tx.portLease.createMany({ data: leases });
      return tx.node.findMany({ where: { id: { in: rows.map((row) => row.id) } }, include: includeLeases, orderBy: { name: 'asc' } });
    });
  }

  /** Makes the farm's runtime node run (its disk kept) and waits until its control answers. */
  async ensureRunning(farm: FarmRow): Promise<FarmRow> {
    const ensured = await this.runtime.ensure(await this.spec(farm));
    let current = farm;
    if (farm.runtimeId !== ensured.runtimeId || farm.host !== ensured.host) {
      current = await this.prisma.farm.update({ where: { id: farm.id }, data: { runtimeId: ensured.runtimeId, host: ensured.host } });
    }
    const deadline = Date.now() + FARM_READY_TIMEOUT_MS;
    for (;;) {
      try {
        await this.control.list(farm.runtimeRef);
        return current;
      } catch (error) {
        if (!(error instanceof FarmControlError) || !error.unreachable || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, FARM_READY_POLL_MS));
      }
    }
  }

  /** What the farm is asked to host for a node: its BMC at the publish address on its leased ports, reporting the node's NIC MACs. */
  bmcOf(node: NodeWithLeases): FarmBmcRequest {
    const port = leasePortOrNull(node, 'ipmi');
    if (port === null) throw new Error(`node ${node.name} has no IPMI lease`);
    return {
      nodeId: node.id, name: node.name, address: this.config.publishAddress, port, redfishPort: leasePortOrNull(node, 'redfish'),
      user: node.ipmiUser, password: node.ipmiPassword, powerOnAtStart: node.powerOnAtStart, macId: node.macId,
    };
  }

  /** Adds the nodes' BMCs to their farm (present ones are fine); the names that failed, with why. */
  async addBmcs(farm: FarmRow, nodes: readonly NodeWithLeases[]): Promise<readonly { name: string; error: string }[]> {
    if (nodes.length === 0) return [];
    return (await this.control.add(farm.runtimeRef, nodes.map((node) => this.bmcOf(node)))).failed;
  }

  /** Takes the nodes' BMCs out of their farm, their state too with purge; a farm that is gone has none. */
  removeBmcs(farmId: string, nodes: readonly { readonly id: string; readonly name: string }[], purge: boolean): Promise<void> {
    return nodes.length === 0 ? Promise.resolve() : this.removals.run(`${purge ? 'p' : 'k'}${farmId}`, nodes);
  }

  private async removeNow(farmId: string, nodes: readonly { readonly id: string; readonly name: string }[], purge: boolean): Promise<void> {
    const farm = await this.prisma.farm.findUnique({ where: { id: farmId } });
    if (farm === null || nodes.length === 0) return;
    if ((await this.runtime.observe(farm.runtimeRef))?.state !== 'running') await this.ensureRunning(farm);
    await this.control.remove(farm.runtimeRef, nodes.map((node) => ({ name: node.name, nodeId: node.id })), purge);
  }

  /**
   * Removes a farm that hosts nothing any more: no node row (any state) names it and its control
   * (when it runs) lists no BMC. Its runtime node and disk go (kept state of BMCs deleted without
   * purge with it), then its row. Under the placement lock: no batch can place a node in it
   * meanwhile, nor make a new farm of the same name while its runtime node is being removed. False
   * when it is not empty (nothing done). Rejects with the runtime's error; its row stays, so the
   * next reconciler run tries again.
   */
  removeIfEmpty(farmId: string): Promise<boolean> {
    const run = this.placing.then(() => this.removeIfEmptyNow(farmId));
    this.placing = run.catch(() => undefined);
    return run;
  }

  private async removeIfEmptyNow(farmId: string): Promise<boolean> {
    const farm = await this.farmOf(farmId);
    if (farm === null) return false;
    if ((await this.prisma.node.count({ where: { farmId } })) > 0) return false;
    if ((await this.runtime.observe(farm.runtimeRef))?.state === 'running' && (await this.control.list(farm.runtimeRef)).length > 0) return false;
    await this.runtime.remove({ id: farm.id, name: farm.name, ref: farm.runtimeRef, host: farm.host }, 'purge');
    // Restrict: a row placed in it since (never, under the lock) would make this fail, not cascade.
    await this.prisma.farm.delete({ where: { id: farm.id } });
    this.logger.log(`farm ${farm.name} removed with its disk: it hosted no node any more`);
    return true;
  }

  /** Every BMC the farm hosts, with its power state: one call for the whole farm. */
  states(farm: FarmRow): Promise<FarmBmcStatus[]> {
    return this.control.list(farm.runtimeRef);
  }

  farms(): Promise<FarmRow[]> {
    return this.prisma.farm.findMany({ orderBy: { name: 'asc' } });
  }

  farmOf(id: string): Promise<FarmRow | null> {
    return this.prisma.farm.findUnique({ where: { id } });
  }
}
