/**
 * The fleet Redfish endpoint (FLEET_REDFISH_PORT): its service, listener, the nodes' pinned
 * certificates and the HTTPS client to the nodes. Needs DatabaseModule, DockerModule (global) and
 * NodesModule (FleetIdentity).
 */
import { Module } from '@nestjs/common';
import { NodesModule } from '../nodes/nodes.module';
import { FleetRedfishServer } from './fleet-redfish.server';
import { FleetRedfishService } from './fleet-redfish.service';
import { NodeCertificates } from './node-certificates';
import { HttpsNodeRedfishClient, NodeRedfishClient } from './node-redfish-client';

@Module({
  imports: [NodesModule],
  providers: [FleetRedfishService, FleetRedfishServer, NodeCertificates, { provide: NodeRedfishClient, useClass: HttpsNodeRedfishClient }],
  exports: [FleetRedfishServer],
})
export class FleetRedfishModule {}
