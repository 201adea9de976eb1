/**
 * NodeRuntime on Docker: volume, container, start, networks, for one node row. Idempotent, so the
 * create path and the reconciler can both call it at any point of a node's life.
 */
import { Injectable, Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { AppConfig } from '../config/app-config';
import { PrismaService } from '../database/prisma.service';
import { DockerAdapter, LABELS, NodeContainerSpec } from '../docker/docker-adapter';
import { IsoLibrary } from '../media/iso-library';
import { nodeContainerSpec } from './node-container-spec';
import { FleetIdentity, NodeRef, NodeRuntime } from './node-runtime';
import { NodeWithLeases, parseNetworks } from './node.model';
import { NodeImageService } from './node-image.service';
import { generateSecret, VNC_PASSWORD_LENGTH } from './generate-secret';
import { LEASE_KINDS } from './lease-kinds';
import { PortLeases } from './port-leases.service';

const KVM_DEVICE = '/dev/kvm';

@Injectable()
export class DockerNodeRuntime extends NodeRuntime {
  private readonly logger = new Logger('NodeRuntime');

  constructor(
    private readonly config: AppConfig,
    private readonly docker: DockerAdapter,
    private readonly prisma: PrismaService,
    private readonly fleet: FleetIdentity,
    private readonly image: NodeImageService,
    private readonly media: IsoLibrary,
    private readonly leases: PortLeases,
  ) {
    super();
  }

  /** The container this node runs as (also what containerlab's `linux` mode renders). */
  specFor(node: NodeWithLeases): NodeContainerSpec {
    return nodeContainerSpec(node, {
      fleetId: this.fleet.fleetId,
      image: this.config.nodeImage,
      publishAddress: this.config.publishAddress,
      isoDir: this.media.directory,
      nodeDefaults: this.config.nodeDefaults,
      kvmAvailable: existsSync(KVM_DEVICE),
    });
  }

  async ensureRunning(given: NodeWithLeases): Promise<string> {
    await this.image.ensure();
    const node = await this.withNewContainerSettings(given);
    // Checked again at every (re-)creation: the file may have been replaced since the node was made.
    if (node.cdrom !== null) await this.media.resolve(node.cdrom);
    const spec = this.specFor(node);
    const containerId = await this.docker.createNodeContainer(spec);
    await this.docker.startContainer(spec.name);
    // Attached after start, in order, so they become eth1, eth2, … as VM_NETWORKS says.
    for (const network of parseNetworks(node.networks)) {
      await this.docker.connectNetwork(spec.name, network);
    }
    if (node.containerId !== containerId) {
      await this.prisma.node.update({ where: { id: node.id }, data: { containerId } });
    }
    return containerId;
  }

  /**
   * A row made before VNC passwords or Redfish ports gets them when its container is made anew (a
   * running container keeps the environment and ports it was made with, so its row stays as it is).
   */
  private async withNewContainerSettings(given: NodeWithLeases): Promise<NodeWithLeases> {
    const complete = given.vncPassword !== null && LEASE_KINDS.every((kind) => given.leases.some((lease) => lease.kind === kind));
    if (complete || (await this.docker.inspectContainer(given.containerName)) !== null) return given;
    const node = await this.leases.withAllLeases(given);
    if (node.vncPassword !== null) return node;
    const vncPassword = generateSecret(VNC_PASSWORD_LENGTH);
    await this.prisma.node.update({ where: { id: node.id }, data: { vncPassword } });
    return { ...node, vncPassword };
  }

  async removeContainer(node: NodeRef, purge: boolean): Promise<void> {
    await this.removeOwnContainer(node);
    if (purge) await this.removeVolumeIf(node, (labels) => labels[LABELS.fleet] === this.fleet.fleetId, 'this fleet\'s');
  }

  async discard(node: NodeRef): Promise<void> {
    await this.removeOwnContainer(node);
    await this.removeVolumeIf(
      node,
      (labels) => labels[LABELS.fleet] === this.fleet.fleetId && labels[LABELS.nodeId] === node.id,
      'made by this create',
    );
  }

  /** The container of that name, only when its labels say this fleet and this node id; removed by id. */
  private async removeOwnContainer(node: NodeRef): Promise<void> {
    const container = await this.docker.inspectContainer(node.containerName);
    if (container === null) return;
    const { labels } = container;
    if (labels[LABELS.fleet] !== this.fleet.fleetId || labels[LABELS.nodeId] !== node.id) {
      this.logger.warn(`node ${node.name}: left container ${node.containerName} (${container.id.slice(0, 12)}) alone: it is not this node's (node id label ${labels[LABELS.nodeId] ?? 'none'})`);
      return;
    }
    await this.docker.removeContainer(container.id);
  }

  private async removeVolumeIf(node: NodeRef, owned: (labels: Readonly<Record<string, string>>) => boolean, rule: string): Promise<void> {
    const volume = await this.docker.inspectVolume(node.volumeName);
    if (volume === null) return;
    if (!owned(volume.labels)) {
      this.logger.log(`node ${node.name}: kept volume ${node.volumeName}: it is not ${rule} (node id label ${volume.labels[LABELS.nodeId] ?? 'none'})`);
      return;
    }
    await this.docker.removeVolume(node.volumeName);
  }
}
