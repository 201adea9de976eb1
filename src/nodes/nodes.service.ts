/**
 * The fleet's use cases: create (row and port leases in one transaction (port-leases.service.ts), then the container, then wait
 * for the BMC), list, get, delete, power and boot through the node's own BMC.
 *
 * Crash safety: the row is written before anything of the node exists in its runtime and removed
 * only after that is gone; a row left in "deleting" by a crash is finished by the reconciler, one left in "creating" (a
 * create that never answered) is rolled back by it.
 */
import { BadGatewayException, ConflictException, Injectable, Logger, NotFoundException, ServiceUnavailableException, BadRequestException, InternalServerErrorException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { PrismaService } from '../database/prisma.service';
import { messageOf } from '../common/errors/message-of';
import { CdromRejectedError, IsoLibrary } from '../media/iso-library';
import { BmcTarget, BmcUnreachableError, NodeBmc, PROBE_PATIENCE } from '../bmc/node-bmc';
import { FleetMetrics, IpmiOperation } from '../metrics/fleet-metrics.service';
import { CreateNodeDto } from './dto/create-node.dto';
import { BootDeviceDto } from './dto/power.dto';
import { NodeRuntime, type RuntimeHost } from '../runtime/node-runtime';
import { HostPlacementError, namedHost, placeNode } from './host-placement';
import { HostAddresses } from './host-addresses.service';
import { ImageMissingError, NameTakenError, NetworkRefusedError, NodeSpecRefusedError, PortInUseError, RuntimeUnavailableError } from '../runtime/runtime-errors';
import { NodeEvents } from './fleet-context';
import { NodeDeployer } from './node-deployer';
import { bmcTargetOf, KvmMode, leasePort, leasePortOrNull, NodeView, NodeWithLeases, PowerActionName, PowerState, toNodeView } from './node.model';
import { vmInterfaces } from './node-spec';
import { isLeaseKind, leasesText, type LeaseKind } from './lease-kinds';
import { noBusyPorts, PortLeases } from './port-leases.service';
import { nodeSizeProblems } from './node-bounds';
import { generateSecret, GENERATED_IPMI_PASSWORD_LENGTH, VNC_PASSWORD_LENGTH } from './generate-secret';
import { FarmsService } from '../farms/farms.service';
import { FarmBatch } from '../farms/farm-batch';
import { farmRefusedFields } from '../farms/farm-node-request';

/** Defaults of design.md section 1, used when neither the request nor NODE_DEFAULTS_* sets them. */
const DEFAULTS = { memoryMiB: 2048, cpus: 2, diskSizeGiB: 20, bootMode: 'bios', bootMenuTimeoutMs: 0, machine: 'qemu', ipmiUser: 'admin' } as const;
/** Ports found busy on the host (not by us) before giving up on a create. */
const MAX_PORT_RETRIES = 5;
/** How long a create waits for the new BMC to answer; 50 creates at once on 2 cores stay well inside. */
const BMC_READY_TIMEOUT_MS = 90_000;
const BMC_READY_POLL_MS = 100;

export interface CreatedNode extends NodeView {
  /** Present only in the create response, and only when the password was generated. */
  readonly generatedIpmiPassword?: string;
}

const includeLeases = { leases: true } as const;
/** A row for a view: its leases and its farm's name. */
const includeView = { leases: true, farm: { select: { name: true, runtimeRef: true } } } as const;

/** The node's leased ports by kind. */
function portsOf(node: NodeWithLeases): Partial<Record<LeaseKind, number>> {
  const ports: Partial<Record<LeaseKind, number>> = {};
  for (const lease of node.leases) if (isLeaseKind(lease.kind)) ports[lease.kind] = lease.port;
  return ports;
}

@Injectable()
export class NodesService {
  private readonly logger = new Logger('Nodes');

  constructor(
    private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly runtime: NodeRuntime,
    private readonly deployer: NodeDeployer,
    private readonly history: NodeEvents,
    private readonly bmc: NodeBmc,
    private readonly metrics: FleetMetrics,
    private readonly media: IsoLibrary,
    private readonly leases: PortLeases,
    private readonly addresses: HostAddresses,
    private readonly farms: FarmsService,
    private readonly farmBatch: FarmBatch,
  ) {}

  async list(): Promise<NodeView[]> {
    const [rows, addressOf] = await Promise.all([this.rows(), this.addresses.resolver()]);
    return rows.map((row) => toNodeView(row, addressOf(row.host)));
  }

  async get(name: string): Promise<NodeView> {
    return this.view(await this.row(name));
  }

  /** The API's view of a row, its addresses its host's (host-addresses.service.ts). */
  async view(row: NodeWithLeases): Promise<NodeView> {
    return toNodeView(row, await this.addresses.of(row.host));
  }

  async rows(): Promise<NodeWithLeases[]> {
    return this.prisma.node.findMany({ include: includeView, orderBy: { name: 'asc' } });
  }

  async row(name: string): Promise<NodeWithLeases> {
    const row = await this.prisma.node.findUnique({ where: { name }, include: includeView });
    if (row === null) throw new NotFoundException(`node ${name} does not exist`);
    return row;
  }

  async events(name: string): Promise<{ at: string; type: string; message: string }[]> {
    const node = await this.row(name);
    const rows = await this.prisma.nodeEvent.findMany({ where: { nodeId: node.id }, orderBy: { id: 'asc' } });
    return rows.map((row) => ({ at: row.at.toISOString(), type: row.type, message: row.message }));
  }

  async create(dto: CreateNodeDto): Promise<CreatedNode> {
    const machine = dto.machine ?? this.config.nodeDefaults['MACHINE'] ?? DEFAULTS.machine;
    if (machine === 'sim' && this.farms.enabled) return this.createInFarm(dto);
    const networks = dto.networks ?? [];
    const labInterfaces = dto.labInterfaces ?? [];
    const taken = vmInterfaces(networks.length).filter((name) => labInterfaces.includes(name));
    if (taken.length > 0) {
      throw new BadRequestException(`labInterfaces ${taken.join(', ')} would clash with the interfaces of the ${networks.length} network(s) (eth1..eth${networks.length}); name lab interfaces from eth${networks.length + 1}`);
    }
    if (networks.length + labInterfaces.length > 8) {
      throw new BadRequestException('a node bridges at most 8 interfaces into its VM (networks + labInterfaces)');
    }
    const size = { memoryMiB: dto.memoryMiB ?? DEFAULTS.memoryMiB, cpus: dto.cpus ?? DEFAULTS.cpus, diskSizeGiB: dto.diskSizeGiB ?? DEFAULTS.diskSizeGiB };
    const cdrom = dto.cdrom === undefined ? null : await this.attachableCdrom(dto.cdrom);
    const hosts = await this.runtimeHosts();
    const wanted = dto.host === undefined ? null : this.namedHost(hosts, dto.host);
    this.checkSize(size, wanted === null ? hosts.filter((host) => host.accepting) : [wanted]);
    await this.checkNetworks(networks);

    const defaults = this.config.nodeDefaults;
    const givenPassword = dto.ipmiPassword ?? defaults['IPMI_PASS'];
    const password = givenPassword ?? generateSecret(GENERATED_IPMI_PASSWORD_LENGTH);
    const id = randomUUID();
    const runtimeRef = `${this.config.fleetName}-${dto.name}`;
    const data = {
      id,
      name: dto.name,
      machine,
      ...size,
      cdrom,
      bootMode: dto.bootMode ?? DEFAULTS.bootMode,
      bootMenuTimeoutMs: dto.bootMenuTimeoutMs ?? DEFAULTS.bootMenuTimeoutMs,
      enableKvm: dto.enableKvm ?? ((defaults['ENABLE_KVM'] ?? 'auto') as KvmMode),
      powerOnAtStart: dto.powerOnAtStart ?? false,
      networks: JSON.stringify(networks),
      labInterfaces: JSON.stringify(labInterfaces),
      ipmiUser: dto.ipmiUser ?? defaults['IPMI_USER'] ?? DEFAULTS.ipmiUser,
      ipmiPassword: password,
      vncPassword: generateSecret(VNC_PASSWORD_LENGTH),
      // A new id per create: a kept disk's BMC forgets its earlier users, unless asked not to.
      bmcUsersResetId: dto.keepBmcUsers === true ? null : id,
      runtimeRef,
    };

    // The host first, then its ports: leases are per host.
    const place = (nodesPerHost: ReadonlyMap<string, number>): string => placeNode(hosts, nodesPerHost, wanted, size, this.config.maxDiskGiB).name;
    let node = await this.leases.insertWithLeases(data, noBusyPorts(), place).catch((error: unknown) => {
      if (error instanceof HostPlacementError) throw new ServiceUnavailableException(error.message);
      throw error;
    });
    await this.history.record(id, 'created', `node ${dto.name} created on host ${node.host ?? '?'} with ports ${leasesText(portsOf(node))}`);
    const busy = noBusyPorts();
    for (let attempt = 0; ; attempt += 1) {
      try {
        node = await this.deployer.ensureRunning(node);
        break;
      } catch (error) {
        if (error instanceof PortInUseError && attempt < MAX_PORT_RETRIES) {
          // Something outside the fleet holds one of the ports on the node's host: lease others there and try again.
          // The message names the port; every port of this try is avoided, the others are free anyway.
          for (const lease of node.leases) if (isLeaseKind(lease.kind)) busy[lease.kind].add(lease.port);
          await this.deployer.remove(node, false).catch(() => undefined);
          node = await this.leases.releaseLeases(node, busy);
          await this.history.record(id, 'error', `host port busy outside the fleet (${messageOf(error)}); retrying with ports ${leasesText(portsOf(node))}`);
          continue;
        }
        await this.abandon(node, error);
      }
    }
    await this.history.record(id, 'started', `${this.runtime.kind} node ${runtimeRef} running on ${node.host ?? 'its host'}`);
    await this.waitForBmc(node);
    // "creating" until here: a row the reconciler finds still "creating" after this process died
    // never answered (and never showed its generated password), so it is rolled back.
    const marked = await this.prisma.node.updateMany({ where: { id, state: 'creating' }, data: { state: 'running' } });
    if (marked.count === 0) {
      // Deleted (or rolled back) while it was being created: leave nothing running.
      await this.deployer.remove(node, false).catch(() => undefined);
      throw new ConflictException(`node ${dto.name} was deleted while it was being created`);
    }
    const view = await this.view(await this.row(dto.name));
    return givenPassword === undefined ? { ...view, generatedIpmiPassword: password } : view;
  }

  /**
   * A sim node with SIM_PLACEMENT=farm: a batch of one (FarmBatch), so it is placed, answered and
   * rolled back after a crash exactly as a batch's node is. Fields a farm BMC cannot honour get a 400.
   */
  private async createInFarm(dto: CreateNodeDto): Promise<CreatedNode> {
    const refused = farmRefusedFields(dto);
    if (refused.length > 0) throw new BadRequestException(refused);
    if (dto.host !== undefined) this.namedHost(await this.runtimeHosts(), dto.host);
    if ((await this.prisma.node.findUnique({ where: { name: dto.name }, select: { id: true } })) !== null) throw new ConflictException(`node ${dto.name} already exists`);
    const givenPassword = dto.ipmiPassword ?? this.config.nodeDefaults['IPMI_PASS'];
    const password = givenPassword ?? generateSecret(GENERATED_IPMI_PASSWORD_LENGTH);
    const { memoryMiB, cpus, diskSizeGiB, bootMode, bootMenuTimeoutMs, enableKvm } = dto;
    const row = Object.fromEntries(Object.entries({ memoryMiB, cpus, diskSizeGiB, bootMode, bootMenuTimeoutMs, enableKvm }).filter(([, value]) => value !== undefined));
    await this.farmBatch.create([dto.name], { password, ipmiUser: dto.ipmiUser, powerOnAtStart: dto.powerOnAtStart ?? false, row, what: `node ${dto.name}` }).catch((error: unknown) => {
      // Two creates of one name at once: the second's rows break the unique name.
      if ((error as { code?: unknown }).code === 'P2002') throw new ConflictException(`node ${dto.name} already exists`);
      throw error;
    });
    const view = await this.view(await this.row(dto.name));
    return givenPassword === undefined ? { ...view, generatedIpmiPassword: password } : view;
  }

  /** The VNC console's address and password (null for a node made before VNC passwords, until re-created). */
  async vnc(name: string): Promise<{ name: string; host: string; port: number; password: string | null }> {
    const node = await this.row(name);
    if (leasePortOrNull(node, 'vnc') === null) throw new NotFoundException(`node ${name} has no VNC console (its BMC lives in a farm: a simulated machine has no screen)`);
    return { name, host: await this.addresses.of(node.host), port: leasePort(node, 'vnc'), password: node.vncPassword };
  }

  async remove(name: string, purge: boolean): Promise<void> {
    const node = await this.row(name);
    await this.prisma.node.update({ where: { id: node.id }, data: { state: 'deleting', purgeOnDelete: purge || node.purgeOnDelete } });
    await this.history.record(node.id, 'deleting', purge ? 'deleting the node and its disk' : 'deleting the node (disk volume kept)');
    try {
      await this.deployer.remove(node, purge || node.purgeOnDelete);
    } catch (error) {
      throw new ServiceUnavailableException(`could not remove ${node.runtimeRef}: ${messageOf(error)}; the node stays in state "deleting" and the reconciler retries`);
    }
    // deleteMany: the reconciler may have finished this delete meanwhile.
    await this.prisma.node.deleteMany({ where: { id: node.id } });
    this.logger.log(`node ${name} deleted${purge ? ' with its disk' : ''}`);
    // Its farm's last node: the farm goes too (else the reconciler's next run removes it).
    if (node.farmId !== null) await this.farms.removeIfEmpty(node.farmId).catch((error: unknown) => this.logger.warn(`farm of ${name} not removed: ${messageOf(error)}; the reconciler retries`));
  }

  async power(name: string, action: PowerActionName): Promise<{ name: string; action: PowerActionName; powerState: PowerState }> {
    const node = await this.usableRow(name);
    await this.callBmc(node, 'power-action', (target) => this.bmc.power(target, action));
    await this.history.record(node.id, 'power', `power ${action}`);
    const powerState = await this.refreshPower(node);
    return { name, action, powerState };
  }

  async powerStatus(name: string): Promise<{ name: string; powerState: PowerState }> {
    const node = await this.usableRow(name);
    const state = await this.callBmc(node, 'power-status', (target) => this.bmc.powerStatus(target));
    await this.storePower(node.id, state);
    return { name, powerState: state };
  }

  async setBoot(name: string, dto: BootDeviceDto): Promise<{ name: string; device: string; persistent: boolean; efi: boolean }> {
    const node = await this.usableRow(name);
    const override = { device: dto.device, persistent: dto.persistent ?? false, efi: dto.efi ?? false };
    await this.callBmc(node, 'power-action', (target) => this.bmc.setBootDevice(target, override));
    await this.history.record(node.id, 'power', `boot override ${override.device}${override.persistent ? ' persistent' : ' once'}${override.efi ? ' efi' : ''}`);
    return { name, ...override };
  }

  /** Where and as whom the node's BMC is reached: its IPMI port at its host's address. */
  async target(node: NodeWithLeases): Promise<BmcTarget> {
    return bmcTargetOf(node, await this.addresses.of(node.host));
  }

  private async usableRow(name: string): Promise<NodeWithLeases> {
    const node = await this.row(name);
    if (node.state === 'deleting') throw new ConflictException(`node ${name} is being deleted`);
    if (node.state === 'creating') throw new ConflictException(`node ${name} is still being created; try again shortly`);
    return node;
  }

  private async callBmc<T>(node: NodeWithLeases, operation: IpmiOperation, call: (target: BmcTarget) => Promise<T>): Promise<T> {
    try {
      return await call(await this.target(node));
    } catch (error) {
      if (error instanceof BmcUnreachableError) {
        this.metrics.recordIpmiError(operation, error.code);
        await this.storePower(node.id, 'unknown');
        throw new BadGatewayException(`node ${node.name}: ${error.message}`);
      }
      throw error;
    }
  }

  private async refreshPower(node: NodeWithLeases): Promise<PowerState> {
    try {
      const state = await this.bmc.powerStatus(await this.target(node));
      await this.storePower(node.id, state);
      return state;
    } catch {
      await this.storePower(node.id, 'unknown');
      return 'unknown';
    }
  }

  private async storePower(id: string, powerState: PowerState): Promise<void> {
    await this.prisma.node.updateMany({ where: { id }, data: { powerState, powerObservedAt: new Date() } });
  }

  /** Polls the new BMC until it answers power status (what "created" means to a provisioning tool). */
  private async waitForBmc(node: NodeWithLeases): Promise<void> {
    const deadline = Date.now() + BMC_READY_TIMEOUT_MS;
    let lastError = '';
    while (Date.now() < deadline) {
      try {
        await this.storePower(node.id, await this.bmc.powerStatus(await this.target(node), PROBE_PATIENCE));
        return;
      } catch (error) {
        lastError = messageOf(error);
        // Deleted (or rolled back) meanwhile: nothing to wait for; the caller answers 409.
        const current = await this.prisma.node.findUnique({ where: { id: node.id }, select: { state: true } });
        if (current === null || current.state !== 'creating') return;
        await new Promise((resolve) => setTimeout(resolve, BMC_READY_POLL_MS));
      }
    }
    const message = `BMC did not answer within ${BMC_READY_TIMEOUT_MS / 1000} s: ${lastError}`;
    await this.prisma.node.updateMany({ where: { id: node.id }, data: { lastError: message } });
    await this.history.record(node.id, 'error', message);
  }

  private async runtimeHosts(): Promise<RuntimeHost[]> {
    try {
      return await this.runtime.hosts();
    } catch (error) {
      throw new ServiceUnavailableException(messageOf(error));
    }
  }

  /** The host the create body names (`host`): 400 naming the field and the hosts when there is none such or it takes no nodes. */
  private namedHost(hosts: readonly RuntimeHost[], wanted: string): RuntimeHost {
    try {
      return namedHost(hosts, wanted);
    } catch (error) {
      if (error instanceof HostPlacementError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  /** Memory and CPUs against the largest of the hosts the node may go on, the disk against MAX_DISK_GIB (node-bounds.ts). */
  private checkSize(size: { memoryMiB: number; cpus: number; diskSizeGiB: number }, hosts: readonly RuntimeHost[]): void {
    if (hosts.length === 0) throw new ServiceUnavailableException(`no host of the ${this.runtime.kind} runtime takes new nodes now (every one is down, paused or draining)`);
    const capacity = {
      memoryBytes: Math.max(0, ...hosts.map((host) => host.memoryBytes)),
      cpus: Math.max(0, ...hosts.map((host) => host.cpus)),
    };
    const problems = nodeSizeProblems(size, capacity, this.config.maxDiskGiB);
    if (problems.length > 0) throw new BadRequestException(problems);
  }

  /** The ISO inside ISO_DIR that `cdrom` names, as the row stores it; a 400 naming cdrom otherwise. */
  private async attachableCdrom(cdrom: string): Promise<string> {
    try {
      return (await this.media.resolve(cdrom)).path;
    } catch (error) {
      if (error instanceof CdromRejectedError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  private async checkNetworks(networks: readonly string[]): Promise<void> {
    for (const name of networks) {
      try {
        await this.runtime.checkNetwork(name);
      } catch (error) {
        if (error instanceof NetworkRefusedError) throw new BadRequestException(error.message);
        throw new ServiceUnavailableException(messageOf(error));
      }
    }
  }

  /** A create that cannot finish leaves nothing of its own behind: its runtime node, disk, row and leases go. */
  private async abandon(node: NodeWithLeases, error: unknown): Promise<never> {
    const reason = messageOf(error);
    this.logger.warn(`create of ${node.name} failed: ${reason}`);
    // Only what this call made: a stranger's container or a disk kept by an earlier delete stays.
    await this.deployer.discard(node).catch((cleanup: unknown) => this.logger.warn(`create of ${node.name}: cleanup failed: ${messageOf(cleanup)}`));
    await this.prisma.node.delete({ where: { id: node.id } }).catch(() => undefined);
    if (error instanceof CdromRejectedError) throw new BadRequestException(error.message);
    if (error instanceof RuntimeUnavailableError) throw new ServiceUnavailableException(reason);
    if (error instanceof ImageMissingError) throw new ServiceUnavailableException(`node image ${this.config.nodeImage}: ${reason}`);
    if (error instanceof NameTakenError) throw new ConflictException(reason);
    if (error instanceof NodeSpecRefusedError) throw new BadRequestException(reason);
    throw new InternalServerErrorException(`could not start node ${node.name}: ${reason}`);
  }
}
