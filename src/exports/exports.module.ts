/**
 * Hand-off to provisioning systems: GET /api/v1/exports/{metal3,ironic,maas}. Reads the nodes
 * through NodesService (NodesModule is global); AppConfig comes from the global AppConfigModule.
 */
import { Module } from '@nestjs/common';
import { ExportsController } from './exports.controller';
import { ExportsService } from './exports.service';

@Module({
  controllers: [ExportsController],
  providers: [ExportsService],
})
export class ExportsModule {}
