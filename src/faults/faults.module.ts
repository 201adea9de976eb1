/** Fault injection through the API: needs NodesModule (NodesService, NodeEvents, NodeRuntime: global) and FleetMetrics (global). */
import { Module } from '@nestjs/common';
import { AgentFaultControl } from './agent-fault-control';
import { FaultsController } from './faults.controller';
import { NodeFaultsService } from './node-faults.service';

@Module({
  controllers: [FaultsController],
  providers: [AgentFaultControl, NodeFaultsService],
})
export class FaultsModule {}
