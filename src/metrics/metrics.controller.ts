/** `GET /metrics`: Prometheus text exposition, outside the /api/v1 prefix and without a token. */
import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { PublicRoute } from '../common/auth/public-route.decorator';
import { FleetMetrics } from './fleet-metrics.service';

/** text/plain; version=0.0.4; charset=utf-8: the format FleetMetrics' registry writes. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: FleetMetrics) {}

  @Get()
  @PublicRoute()
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics of the orchestrator and the fleet' })
  @ApiProduces(METRICS_CONTENT_TYPE)
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', schema: { type: 'string' } })
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
