/** Node batches: many sim nodes with one call. Uses NodesModule's exports (global). */
import { Module } from '@nestjs/common';
import { NodeBatchesController } from './node-batches.controller';
import { NodeBatchesService } from './node-batches.service';

@Module({
  controllers: [NodeBatchesController],
  providers: [NodeBatchesService],
})
export class NodeBatchesModule {}
