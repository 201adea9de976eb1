/**
 * The reconciler and its endpoint. Uses the global providers of DatabaseModule, DockerModule,
 * NodesModule (NodeRuntime, NodeEvents, FleetIdentity, NodeBmc), MetricsModule and
 * ScheduleModule.forRoot() (SchedulerRegistry), all registered in AppModule.
 */
import { FarmReconciler } from './farm-reconciler';
import { Module } from '@nestjs/common';
import { ReconcilerController } from './reconciler.controller';
import { ReconcilerService } from './reconciler.service';

@Module({
  controllers: [ReconcilerController],
  providers: [ReconcilerService, FarmReconciler],
  exports: [ReconcilerService],
})
export class ReconcilerModule {}
