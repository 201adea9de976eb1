/**
 * POST /api/v1/node-batches: many `machine: sim` nodes in one call. With SIM_PLACEMENT=farm (the
 * default) the nodes become BMCs in farms (src/farms, farm-batch.ts): rows and leases in one
 * transaction, each farm's BMCs added with one control call per few hundred. With
 * SIM_PLACEMENT=container each node is made by the same
 * create as POST /api/v1/nodes (NodesService.create: row and leases, runtime node, BMC answering), a few
 * at a time, so a batch node is exactly a node made alone. All or nothing: when one node cannot be
 * made, no further one starts, and the nodes this batch made are undone the way an interrupted create
 * is (its runtime node, the disk only when this create made it, row and leases); the answer is the first
 * failure's status, naming the node. A crash in the middle leaves rows "creating" (rolled back by the
 * reconciler, like any interrupted create) or "running" (kept, as any answered create).
 */
import { BadRequestException, ConflictException, HttpException, Injectable, InternalServerErrorException, Logger, ServiceUnavailableException } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { PrismaService } from '../database/prisma.service';
import { messageOf } from '../common/errors/message-of';
import { NodeDeployer } from '../nodes/node-deployer';
import { NodesService } from '../nodes/nodes.service';
import { generateSecret, GENERATED_IPMI_PASSWORD_LENGTH } from '../nodes/generate-secret';
import { LEASE_KIND_INFO, LEASE_KINDS, leaseRange, type LeaseKind } from '../nodes/lease-kinds';
import type { Endpoint, NodeView } from '../nodes/node.model';
import { rangeText } from '../nodes/port-allocation';
import { ANY_HOST } from '../nodes/port-leases.service';
import { NodeRuntime } from '../runtime/node-runtime';
import { BatchNameError, batchNames } from './batch-names';
import { FARM_LEASE_KINDS, FarmsService } from '../farms/farms.service';
import { FarmBatch } from '../farms/farm-batch';
import { CreateNodeBatchDto } from './dto/create-node-batch.dto';

/** Creates in flight at once: each starts a runtime node and waits for its BMC (2 cores, shared). */
export const BATCH_CREATE_CONCURRENCY = 4;
/** Taken names a 409 lists before "and N more". */
const NAMES_SHOWN = 10;

export interface BatchNode {
  readonly id: string;
  readonly name: string;
  readonly ipmi: Endpoint & { readonly user: string };
  readonly redfish: Endpoint | null;
}

export interface CreatedBatch {
  readonly namePrefix: string;
  readonly count: number;
  readonly machine: 'sim';
  readonly nodes: readonly BatchNode[];
  /** Only when the password was generated: every node of the batch has it; never shown again. */
  readonly generatedIpmiPassword?: string;
}

function batchNode(view: NodeView): BatchNode {
  return { id: view.id, name: view.name, ipmi: view.ipmi, redfish: view.redfish };
}

function namesText(names: readonly string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}

@Injectable()
export class NodeBatchesService {
  private readonly logger = new Logger('NodeBatches');

  constructor(
    private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly nodes: NodesService,
    private readonly deployer: NodeDeployer,
    private readonly farms: FarmsService,
    private readonly farmBatch: FarmBatch,
    private readonly runtime: NodeRuntime,
  ) {}

  async create(dto: CreateNodeBatchDto): Promise<CreatedBatch> {
    let names: string[];
    try {
      names = batchNames(dto.namePrefix, dto.count, dto.firstIndex ?? 1);
    } catch (error) {
      if (error instanceof BatchNameError) throw new BadRequestException(error.message);
      throw error;
    }
    await this.checkNamesFree(names);
    const givenPassword = dto.ipmiPassword ?? this.config.nodeDefaults['IPMI_PASS'];
    const password = givenPassword ?? generateSecret(GENERATED_IPMI_PASSWORD_LENGTH);
    if (this.farms.enabled) {
      await this.checkPortsFree(names.length, FARM_LEASE_KINDS);
      const views = await this.farmBatch.create(names, { password, ipmiUser: dto.ipmiUser, powerOnAtStart: dto.powerOnAtStart ?? false });
      this.logger.log(`batch ${dto.namePrefix}: ${names.length} sim node(s) placed in farms (${names[0]} … ${names[names.length - 1]})`);
      return { namePrefix: dto.namePrefix, count: views.length, machine: 'sim', nodes: views.map(batchNode), ...(givenPassword === undefined ? { generatedIpmiPassword: password } : {}) };
    }
    await this.checkPortsFree(names.length, LEASE_KINDS);
    const made: NodeView[] = [];
    let failure: { name: string; error: unknown } | null = null;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (failure === null && next < names.length) {
        const name = names[next] as string;
        next += 1;
        try {
          made.push(await this.nodes.create({
            name, machine: 'sim', ipmiPassword: password,
            ...(dto.ipmiUser === undefined ? {} : { ipmiUser: dto.ipmiUser }),
            ...(dto.powerOnAtStart === undefined ? {} : { powerOnAtStart: dto.powerOnAtStart }),
          }));
        } catch (error) {
          failure ??= { name, error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_CREATE_CONCURRENCY, names.length) }, worker));
    if (failure !== null) {
      const { name, error } = failure as { name: string; error: unknown };
      await this.undo(made);
      throw this.batchError(name, error, names.length, made.length);
    }
    this.logger.log(`batch ${dto.namePrefix}: ${names.length} sim node(s) created (${names[0]} … ${names[names.length - 1]})`);
    const nodes = made.sort((a, b) => (a.name < b.name ? -1 : 1)).map(batchNode);
    return { namePrefix: dto.namePrefix, count: nodes.length, machine: 'sim', nodes, ...(givenPassword === undefined ? { generatedIpmiPassword: password } : {}) };
  }

  /** Every taken name at once, before anything is made. */
  private async checkNamesFree(names: readonly string[]): Promise<void> {
    const taken: string[] = [];
    // SQLite binds at most 32,766 parameters; a batch is well below.
    for (const row of await this.prisma.node.findMany({ where: { name: { in: [...names] } }, select: { name: true }, orderBy: { name: 'asc' } })) taken.push(row.name);
    if (taken.length > 0) throw new ConflictException(`${taken.length} of the batch's names are taken: ${namesText(taken)}; choose another namePrefix or firstIndex`);
  }

  /**
   * Each node leases one port of every kind on its host: refuse a batch the ranges of the hosts taking
   * new nodes cannot hold before making any (a port leased on every host, host "", counts on each).
   */
  private async checkPortsFree(count: number, kinds: readonly LeaseKind[]): Promise<void> {
    // A runtime that does not answer: every lease counts against one range (its creates would fail anyway).
    const hosts: (string | null)[] = await this.runtime.hosts().then(
      (list) => list.filter((host) => host.accepting).map((host) => host.name),
      () => [null],
    );
    for (const kind of kinds) {
      const range = leaseRange(this.config, kind);
      let free = 0;
      for (const host of hosts) {
        const onHost = host === null ? {} : { host: { in: [host, ANY_HOST] } };
        const leased = await this.prisma.portLease.count({ where: { kind, ...onHost, port: { gte: range.first, lte: range.last } } });
        free += range.last - range.first + 1 - leased;
      }
      if (free < count) {
        const info = LEASE_KIND_INFO[kind];
        throw new ServiceUnavailableException(`a batch of ${count} needs ${count} free ${info.title} ports; ${info.rangeVariable} ${rangeText(range)} has ${free}: widen the range, delete nodes, or make a smaller batch`);
      }
    }
  }

  /** Undoes this batch's nodes as an interrupted create is undone; never throws (the reconciler finishes what fails). */
  private async undo(made: readonly NodeView[]): Promise<void> {
    for (const view of made) {
      try {
        const node = await this.prisma.node.update({ where: { id: view.id }, data: { state: 'deleting' }, include: { leases: true } });
        await this.deployer.discard(node);
        await this.prisma.node.deleteMany({ where: { id: view.id } });
      } catch (error) {
        this.logger.warn(`batch undo of ${view.name} failed: ${messageOf(error)}; the reconciler finishes the delete`);
      }
    }
  }

  private batchError(name: string, error: unknown, count: number, made: number): HttpException {
    const message = `batch of ${count} not created (${made} node(s) made before it were undone): node ${name}: ${messageOf(error)}`;
    if (error instanceof HttpException) {
      const original = error.getResponse();
      const kind = typeof original === 'object' && original !== null && typeof (original as { error?: unknown }).error === 'string' ? (original as { error: string }).error : error.name;
      return new HttpException({ statusCode: error.getStatus(), message, error: kind }, error.getStatus());
    }
    return new InternalServerErrorException(message);
  }
}
