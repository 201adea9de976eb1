/**
 * Nodes: API, use cases, and the providers the reconciler and containerlab share (NodeRuntime,
 * NodeDeployer, NodeEvents, FleetIdentity, NodeBmc, NodesService). Needs DatabaseModule and
 * DockerModule (global); imports MediaModule (the ISOs a node may attach). The runtime is RUNTIME's:
 * the plain Docker one (src/runtime/docker/) or the Swarm one (src/runtime/swarm/, docs/swarm.md).
 */
import { Global, Module } from '@nestjs/common';
import Dockerode from 'dockerode';
import { AppConfig } from '../config/app-config';
import { DockerAdapter } from '../docker/docker-adapter';
import { SwarmNodeRuntime } from '../runtime/swarm/swarm-node-runtime';
import { IpmiNodeBmc, NodeBmc } from '../bmc/node-bmc';
import { PrismaService } from '../database/prisma.service';
import { MediaModule } from '../media/media.module';
import { DatabaseFleetIdentity } from './fleet-identity.service';
import { DatabaseNodeEvents } from './node-events.service';
import { NodeImageService } from '../runtime/docker/node-image.service';
import { DockerNodeRuntime } from '../runtime/docker/docker-node-runtime';
import { NodeRuntime } from '../runtime/node-runtime';
import { FleetIdentity, NodeEvents } from './fleet-context';
import { NodeDeployer } from './node-deployer';
import { NodesController } from './nodes.controller';
import { VirtualMediaController } from './virtual-media.controller';
import { VirtualMediaService } from './virtual-media.service';
import { AgentRedfish, HttpsAgentRedfish } from '../bmc/agent-redfish';
import { NodesService } from './nodes.service';
import { NodeListing } from './node-listing.service';
import { PortLeases } from './port-leases.service';
import { HostAddresses } from './host-addresses.service';
import { ContainerlabNodeSource } from '../containerlab/containerlab-node-source';
import { NodesContainerlabSource } from './nodes-containerlab-source';
import { FarmControlClient } from '../farms/farm-control.client';
import { FarmsService } from '../farms/farms.service';
import { FarmBatch } from '../farms/farm-batch';

@Global()
@Module({
  imports: [MediaModule],
  controllers: [NodesController, VirtualMediaController],
  providers: [
    NodesService,
    NodeListing,
    VirtualMediaService,
    { provide: AgentRedfish, useClass: HttpsAgentRedfish },
    PortLeases,
    HostAddresses,
    NodeImageService,
    { provide: FleetIdentity, inject: [PrismaService], useFactory: (prisma: PrismaService) => DatabaseFleetIdentity.load(prisma) },
    { provide: NodeEvents, useClass: DatabaseNodeEvents },
    { provide: NodeBmc, useClass: IpmiNodeBmc },
    {
      provide: NodeRuntime,
      inject: [AppConfig, DockerAdapter, FleetIdentity, NodeImageService],
      // dockerode finds the engine itself (DOCKER_HOST, else /var/run/docker.sock): a manager's for swarm.
      useFactory: (config: AppConfig, docker: DockerAdapter, fleet: FleetIdentity, image: NodeImageService): NodeRuntime =>
        config.runtime === 'swarm'
          ? new SwarmNodeRuntime({ docker: new Dockerode(), fleetId: fleet.fleetId, jobImage: config.nodeImage, nodesNetwork: `${config.fleetName}-nodes` })
          : new DockerNodeRuntime(docker, fleet, image),
    },
    NodeDeployer,
    FarmControlClient,
    FarmsService,
    FarmBatch,
    { provide: ContainerlabNodeSource, useClass: NodesContainerlabSource },
  ],
  exports: [FarmsService, FarmBatch, FarmControlClient, NodesService, PortLeases, HostAddresses, NodeImageService, FleetIdentity, NodeEvents, NodeRuntime, NodeDeployer, NodeBmc, ContainerlabNodeSource],
})
export class NodesModule {}
