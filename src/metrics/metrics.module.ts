/**
 * FleetMetrics for every module (global: the reconciler, the nodes service and the BMC path record
 * into it), `GET /metrics`, and the HTTP timing middleware on every route. Needs PrismaService
 * (DatabaseModule) for the node gauges.
 */
import { Global, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { FleetMetrics } from './fleet-metrics.service';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [FleetMetrics],
  exports: [FleetMetrics],
})
export class MetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
