/** Fault injection through the API: needs NodesModule, NodeEvents and FleetMetrics (global) and DockerModule. */
import { Module } from '@nestjs/common';
import { AgentFaultControl } from './agent-fault-control';
import { FaultsController } from './faults.controller';
import { NodeFaultsService } from './node-faults.service';

@Module({
  controllers: [FaultsController],
  providers: [AgentFaultControl, NodeFaultsService],
})
export class FaultsModule {}
