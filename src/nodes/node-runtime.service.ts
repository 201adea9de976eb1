/**
 * NodeRuntime on Docker: volume, container, start, networks, for one node row. Idempotent, so the
 * create path and the reconciler can both call it at any point of a node's life.
 */
import { Injectable } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { AppConfig } from '../config/app-config';
import { PrismaService } from '../database/prisma.service';
import { DockerAdapter, NodeContainerSpec } from '../docker/docker-adapter';
import { IsoLibrary } from '../media/iso-library';
import { nodeContainerSpec } from './node-container-spec';
import { FleetIdentity, NodeRuntime } from './node-runtime';
import { NodeWithLeases, parseNetworks } from './node.model';
import { NodeImageService } from './node-image.service';

const KVM_DEVICE = '/dev/kvm';

@Injectable()
export class DockerNodeRuntime extends NodeRuntime {
  constructor(
    private readonly config: AppConfig,
    private readonly docker: DockerAdapter,
    private readonly prisma: PrismaService,
    private readonly fleet: FleetIdentity,
    private readonly image: NodeImageService,
    private readonly media: IsoLibrary,
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

  async ensureRunning(node: NodeWithLeases): Promise<string> {
    await this.image.ensure();
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

  async removeContainer(node: Pick<NodeWithLeases, 'containerName' | 'volumeName'>, purge: boolean): Promise<void> {
    await this.docker.removeContainer(node.containerName);
    if (purge) await this.docker.removeVolume(node.volumeName);
  }
}
