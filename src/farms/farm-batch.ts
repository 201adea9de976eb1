/**
 * Sim nodes placed in farms (SIM_PLACEMENT=farm), a batch (POST /api/v1/node-batches) or a batch
 * of one (POST /api/v1/nodes with machine sim, NodesService): every row and lease written in one
 * transaction ("creating"), the farms that take them made to run, their BMCs added (one control call
 * per few hundred), then every row marked "running" at once. All or nothing: when a farm cannot take
 * its BMCs, the batch's BMCs leave their farms and its rows go, and the answer names the first
 * failure. A crash in the middle leaves rows "creating", which the reconciler rolls back (their
 * BMCs taken out of the farm) as it does any create that never answered.
 */
import { HttpException, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { PrismaService } from '../database/prisma.service';
import { messageOf } from '../common/errors/message-of';
import { FarmsService, type FarmNodeData, type FarmRow } from './farms.service';
import { toNodeView, type NodeView, type NodeWithLeases } from '../nodes/node.model';

/** Node settings of a sim node in a farm that mean nothing there (no VM), kept as a container sim node's. */
const SIM_ROW_DEFAULTS = { memoryMiB: 2048, cpus: 2, diskSizeGiB: 20, bootMode: 'bios', bootMenuTimeoutMs: 0, enableKvm: 'false' } as const;
const DEFAULT_IPMI_USER = 'admin';

export interface FarmBatchSettings {
  readonly password: string;
  readonly ipmiUser: string | undefined;
  readonly powerOnAtStart: boolean;
  /** Settings a farm BMC does not use (no VM), stored as asked; SIM_ROW_DEFAULTS otherwise. */
  readonly row?: { memoryMiB?: number; cpus?: number; diskSizeGiB?: number; bootMode?: string; bootMenuTimeoutMs?: number; enableKvm?: string };
  /** What the request made, for errors: "batch of 200", "node rack1-001". */
  readonly what?: string;
}

@Injectable()
export class FarmBatch {
  private readonly logger = new Logger('FarmBatch');

  constructor(
    private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly farms: FarmsService,
  ) {}

  async create(names: readonly string[], settings: FarmBatchSettings): Promise<NodeView[]> {
    const rows: FarmNodeData[] = names.map((name) => {
      const id = randomUUID();
      return {
        id, name, machine: 'sim', ...SIM_ROW_DEFAULTS, ...settings.row, powerOnAtStart: settings.powerOnAtStart, networks: '[]', labInterfaces: '[]',
        ipmiUser: settings.ipmiUser ?? this.config.nodeDefaults['IPMI_USER'] ?? DEFAULT_IPMI_USER, ipmiPassword: settings.password,
        vncPassword: null, bmcUsersResetId: id, runtimeRef: `${this.config.fleetName}-${name}`,
      };
    });
    const what = settings.what ?? `batch of ${names.length}`;
    const nodes = await this.farms.insertPlaced(rows);
    const ids = nodes.map((node) => node.id);
    await this.prisma.nodeEvent.createMany({ data: nodes.map((node) => ({ nodeId: node.id, type: 'created', message: `node ${node.name} created in a farm with ports IPMI ${this.port(node, 'ipmi')}/udp, Redfish ${this.port(node, 'redfish')}/tcp` })) });
    const byFarm = new Map<string, NodeWithLeases[]>();
    for (const node of nodes) byFarm.set(node.farmId as string, [...(byFarm.get(node.farmId as string) ?? []), node]);
    const power = new Map<string, 'on' | 'off'>();
    let failure: string | null = null;
    for (const [farmId, members] of byFarm) {
      try {
        const farm = await this.farms.ensureRunning((await this.farms.farmOf(farmId)) as FarmRow);
        const failed = await this.farms.addBmcs(farm, members);
        if (failed.length > 0) {
          failure = `${failed.length} BMC(s) could not start in ${farm.name}; first: ${failed[0]?.name}: ${failed[0]?.error}`;
          break;
        }
        for (const state of await this.farms.states(farm)) power.set(state.nodeId, state.power);
      } catch (error) {
        failure = `farm of ${members[0]?.name ?? '?'} … : ${messageOf(error)}`;
        break;
      }
    }
    if (failure !== null) {
      await this.undo(byFarm);
      throw new ServiceUnavailableException(`${what} not created (nothing of it kept): ${failure}`);
    }
    const now = new Date();
    for (const state of ['on', 'off'] as const) {
      const these = ids.filter((id) => power.get(id) === state);
      if (these.length > 0) await this.prisma.node.updateMany({ where: { id: { in: these }, state: 'creating' }, data: { state: 'running', powerState: state, powerObservedAt: now, bmcReachable: true } });
    }
    const marked = await this.prisma.node.findMany({ where: { id: { in: ids } }, include: { leases: true, farm: { select: { name: true } } }, orderBy: { name: 'asc' } });
    const running = marked.filter((node) => node.state === 'running');
    if (running.length !== ids.length) {
      // Deleted while being created (or a BMC the farm did not list): as a single create, that is a conflict.
      this.logger.warn(`batch: ${ids.length - running.length} node(s) were deleted or not listed by their farm while being created`);
      if (running.length === 0) throw new HttpException(`${what}: deleted while being created`, 409);
    }
    await this.prisma.nodeEvent.createMany({ data: running.map((node) => ({ nodeId: node.id, type: 'started', message: `BMC running in ${node.farm?.name ?? 'its farm'}` })) });
    return running.map((node) => toNodeView(node, this.config.publishAddress));
  }

  private port(node: NodeWithLeases, kind: string): number | undefined {
    return node.leases.find((lease) => lease.kind === kind)?.port;
  }

  /** Takes the batch's BMCs out of their farms and deletes its rows; never throws (the reconciler finishes). */
  private async undo(byFarm: ReadonlyMap<string, readonly NodeWithLeases[]>): Promise<void> {
    for (const [farmId, members] of byFarm) {
      try {
        await this.farms.removeBmcs(farmId, members, false);
        await this.prisma.node.deleteMany({ where: { id: { in: members.map((node) => node.id) } } });
      } catch (error) {
        await this.prisma.node.updateMany({ where: { id: { in: members.map((node) => node.id) } }, data: { state: 'deleting' } }).catch(() => undefined);
        this.logger.warn(`batch undo in a farm failed: ${messageOf(error)}; the reconciler finishes the delete`);
      }
    }
  }
}
