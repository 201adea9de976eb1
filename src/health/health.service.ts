import { Injectable } from '@nestjs/common';
import { HealthResponseDto } from './dto/health-response.dto';

/** Liveness only for now; readiness (database, Docker) joins when those modules exist. */
@Injectable()
export class HealthService {
  check(): HealthResponseDto {
    return { status: 'ok', uptimeSeconds: Math.floor(process.uptime()) };
  }
}
