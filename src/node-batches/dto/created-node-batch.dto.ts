/** OpenAPI description of a created batch (node-batches.service.ts CreatedBatch). */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EndpointDto, IpmiEndpointDto } from '../../nodes/dto/node-view.dto';

export class BatchNodeDto {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'rack1-001' }) name!: string;
  @ApiProperty({ type: IpmiEndpointDto }) ipmi!: IpmiEndpointDto;
  @ApiProperty({ type: EndpointDto, nullable: true }) redfish!: EndpointDto | null;
}

export class CreatedNodeBatchDto {
  @ApiProperty({ example: 'rack1' }) namePrefix!: string;
  @ApiProperty({ example: 200 }) count!: number;
  @ApiProperty({ enum: ['sim'] }) machine!: string;
  @ApiProperty({ type: [BatchNodeDto] }) nodes!: BatchNodeDto[];
  @ApiPropertyOptional({ description: 'Only when the password was generated: every node of the batch has it; keep it, it is never shown again' })
  generatedIpmiPassword?: string;
}
