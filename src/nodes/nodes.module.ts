/**
 * Nodes: API, use cases, and the providers the reconciler and containerlab share (NodeRuntime,
 * NodeEvents, FleetIdentity, NodeBmc, NodesService). Needs DatabaseModule and DockerModule (global);
 * imports MediaModule (the ISOs a node may attach).
 */
import { Global, Module } from '@nestjs/common';
import { IpmiNodeBmc, NodeBmc } from '../bmc/node-bmc';
import { PrismaService } from '../database/prisma.service';
import { MediaModule } from '../media/media.module';
import { DatabaseFleetIdentity } from './fleet-identity.service';
import { DatabaseNodeEvents } from './node-events.service';
import { NodeImageService } from './node-image.service';
import { FleetIdentity, NodeEvents, NodeRuntime } from './node-runtime';
import { DockerNodeRuntime } from './node-runtime.service';
import { NodesController } from './nodes.controller';
import { VirtualMediaController } from './virtual-media.controller';
import { VirtualMediaService } from './virtual-media.service';
import { AgentRedfish, HttpsAgentRedfish } from '../bmc/agent-redfish';
import { NodesService } from './nodes.service';
import { NodeListing } from './node-listing.service';
import { PortLeases } from './port-leases.service';
import { ContainerlabNodeSource } from '../containerlab/containerlab-node-source';
import { NodesContainerlabSource } from './nodes-containerlab-source';

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
    NodeImageService,
    { provide: FleetIdentity, inject: [PrismaService], useFactory: (prisma: PrismaService) => DatabaseFleetIdentity.load(prisma) },
    { provide: NodeEvents, useClass: DatabaseNodeEvents },
    { provide: NodeBmc, useClass: IpmiNodeBmc },
    DockerNodeRuntime,
    { provide: NodeRuntime, useExisting: DockerNodeRuntime },
    { provide: ContainerlabNodeSource, useClass: NodesContainerlabSource },
  ],
  exports: [NodesService, PortLeases, NodeImageService, FleetIdentity, NodeEvents, NodeRuntime, NodeBmc, ContainerlabNodeSource],
})
export class NodesModule {}
