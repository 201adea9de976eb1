/** The fleet's live feed (GET /api/v1/events) and the power watch behind it. NodesModule is global. */
import { Module } from '@nestjs/common';
import { EventsController } from './events.controller';
import { FleetWatch } from './fleet-watch.service';
import { PowerWatch } from './power-watch.service';

@Module({
  controllers: [EventsController],
  providers: [FleetWatch, PowerWatch],
  exports: [FleetWatch],
})
export class EventsModule {}
