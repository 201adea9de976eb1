/**
 * NodeRuntime on one plain Docker engine: a node is a container named after its ref, with a named
 * volume `<ref>-vm` at /vm, both labelled with the fleet's and the node's id (LABELS). Everything
 * engine-specific stays here and in src/docker/ (the Engine API adapter).
 */
import { Injectable, Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { DockerAdapter, DockerAdapterError, InspectedContainer, LABELS, ManagedContainer } from '../../docker/docker-adapter';
import { FleetIdentity } from '../../nodes/fleet-context';
import {
  DiskPolicy, EnsuredNode, ExecOptions, ExecResult, NodeRef, NodeRuntime, NodeSpec, ObservedNode, OwnedNode, RuntimeHost,
} from '../node-runtime';
import { NetworkRefusedError } from '../runtime-errors';
import { containerSpecOf, DEFAULT_NETWORK, volumeNameOf } from './container-spec';
import { runtimeErrorOf, runtimeStateOf } from './docker-errors';
import { validateNetworks } from './network-rules';
import { NodeImageService } from './node-image.service';

const KVM_DEVICE = '/dev/kvm';

@Injectable()
export class DockerNodeRuntime extends NodeRuntime {
  readonly kind = 'docker';
  private readonly logger = new Logger('DockerRuntime');
  private hostName: string | null = null;

  constructor(
    private readonly docker: DockerAdapter,
    private readonly fleet: FleetIdentity,
    private readonly image: NodeImageService,
  ) {
    super();
  }

  async prepare(): Promise<void> {
    await this.engine(() => this.image.ensure(), 'node image');
  }

  async hosts(): Promise<RuntimeHost[]> {
    const capacity = await this.engine(() => this.docker.hostCapacity(), 'engine info');
    this.hostName = capacity.name;
    // Checked where the orchestrator runs, as the node spec always was: an orchestrator in a
    // container without /dev/kvm makes nodes without KVM unless they ask for it (enableKvm=true).
    // One host, its ports published on PUBLISH_ADDRESS (address null).
    return [{ name: capacity.name, id: capacity.name, address: null, accepting: true, memoryBytes: capacity.memoryBytes, cpus: capacity.cpus, kvm: existsSync(KVM_DEVICE) }];
  }

  async checkNetwork(name: string): Promise<void> {
    const info = await this.engine(() => this.docker.inspectNetwork(name), `network ${name}`);
    if (info === null) throw new NetworkRefusedError(name, `network ${name} does not exist; create it first (docker network create ${name})`);
    const problem = validateNetworks(info);
    if (problem !== null) throw new NetworkRefusedError(name, problem);
  }

  async ensure(spec: NodeSpec): Promise<EnsuredNode> {
    await this.prepare();
    const container = containerSpecOf(spec, this.fleet.fleetId);
    const runtimeId = await this.engine(async () => {
      const id = await this.docker.createNodeContainer(container);
      const existing = await this.docker.inspectContainer(id);
      if (existing?.state === 'paused') await this.docker.unpauseContainer(id);
      else await this.docker.startContainer(container.name);
      // Attached after start, in order, so they become eth1, eth2, … as VM_NETWORKS says.
      for (const network of spec.networks) await this.docker.connectNetwork(container.name, network);
      return id;
    }, `container ${spec.ref}`, spec);
    return { runtimeId, host: await this.localHost() };
  }

  async stop(node: NodeRef, timeoutSeconds: number): Promise<void> {
    const container = await this.ownContainer(node);
    if (container !== null) await this.engine(() => this.docker.stopContainer(container.id, timeoutSeconds), `container ${node.ref}`);
  }

  async remove(node: NodeRef, disk: DiskPolicy): Promise<void> {
    const container = await this.ownContainer(node);
    if (container !== null) await this.engine(() => this.docker.removeContainer(container.id), `container ${node.ref}`);
    if (disk === 'purge') await this.removeVolumeIf(node, (labels) => labels[LABELS.fleet] === this.fleet.fleetId, 'this fleet\'s');
    if (disk === 'discard') {
      await this.removeVolumeIf(
        node,
        (labels) => labels[LABELS.fleet] === this.fleet.fleetId && labels[LABELS.nodeId] === node.id,
        'made by this create',
      );
    }
  }

  async removeInstance(instance: OwnedNode): Promise<void> {
    // By id: the listing's labels said it is the fleet's; the name may have changed hands since.
    await this.engine(() => this.docker.removeContainer(instance.runtimeId), `container ${instance.ref}`);
  }

  async observe(ref: string): Promise<ObservedNode | null> {
    const container = await this.engine(() => this.docker.inspectContainer(ref), `container ${ref}`);
    return container === null ? null : this.observed(container, await this.localHost());
  }

  async list(): Promise<OwnedNode[]> {
    const containers = await this.engine(() => this.docker.listFleetContainers(this.fleet.fleetId), 'fleet containers');
    const host = containers.length === 0 ? '' : await this.localHost();
    return containers.map((container) => this.owned(container, host));
  }

  async readFile(ref: string, path: string, maxBytes: number): Promise<Buffer | null> {
    return this.engine(() => this.docker.readContainerFile(ref, path, maxBytes), `container ${ref}`);
  }

  exec(ref: string, argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
    return this.engine(() => this.docker.exec(ref, argv, options), `container ${ref}`);
  }

  private owned(container: ManagedContainer, host: string): OwnedNode {
    return {
      runtimeId: container.id,
      ref: container.name,
      nodeId: container.labels[LABELS.nodeId] ?? null,
      nodeName: container.labels[LABELS.node] ?? null,
      state: runtimeStateOf(container.state),
      host,
    };
  }

  private observed(container: InspectedContainer, host: string): ObservedNode {
    const addresses = container.addresses ?? {};
    return {
      ...this.owned(container, host),
      image: container.image,
      env: container.env,
      published: container.publishedPorts,
      networks: container.networks.filter((network) => network !== DEFAULT_NETWORK),
      address: addresses[DEFAULT_NETWORK] ?? null,
      addresses: Object.fromEntries(Object.entries(addresses).filter(([network]) => network !== DEFAULT_NETWORK)),
      hostAddress: host,
      exit: container.exit === undefined || container.exit === null ? null : { ...container.exit },
    };
  }

  /** The engine's host name (GET /info), read once. */
  private async localHost(): Promise<string> {
    if (this.hostName === null) await this.hosts();
    return this.hostName ?? 'localhost';
  }

  /** The container holding the node's ref, only when its labels say this fleet and this node id. */
  private async ownContainer(node: NodeRef): Promise<InspectedContainer | null> {
    const container = await this.engine(() => this.docker.inspectContainer(node.ref), `container ${node.ref}`);
    if (container === null) return null;
    const { labels } = container;
    if (labels[LABELS.fleet] !== this.fleet.fleetId || labels[LABELS.nodeId] !== node.id) {
      this.logger.warn(`node ${node.name}: left container ${node.ref} (${container.id.slice(0, 12)}) alone: it is not this node's (node id label ${labels[LABELS.nodeId] ?? 'none'})`);
      return null;
    }
    return container;
  }

  private async removeVolumeIf(node: NodeRef, owned: (labels: Readonly<Record<string, string>>) => boolean, rule: string): Promise<void> {
    const name = volumeNameOf(node.ref);
    const volume = await this.engine(() => this.docker.inspectVolume(name), `volume ${name}`);
    if (volume === null) return;
    if (!owned(volume.labels)) {
      this.logger.log(`node ${node.name}: kept volume ${name}: it is not ${rule} (node id label ${volume.labels[LABELS.nodeId] ?? 'none'})`);
      return;
    }
    await this.engine(() => this.docker.removeVolume(name), `volume ${name}`);
  }

  /** Runs an Engine API call, turning DockerAdapterError into the runtime's errors. */
  private async engine<T>(call: () => Promise<T>, what: string, spec?: NodeSpec): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw error instanceof DockerAdapterError ? runtimeErrorOf(error, what, spec) : error;
    }
  }
}
