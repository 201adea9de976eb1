import { ApiProperty } from '@nestjs/swagger';

export class HealthResponseDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  readonly status!: 'ok';

  @ApiProperty({ description: 'Whole seconds since the orchestrator started', example: 42 })
  readonly uptimeSeconds!: number;
}
