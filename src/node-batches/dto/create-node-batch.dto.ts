/** POST /api/v1/node-batches body: many simulated nodes with one call (batch-names.ts names them). */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Equals, IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IPMI_PASSWORD_MAX_LENGTH, IPMI_PASSWORD_MIN_LENGTH } from '../../config/env.schema';
import { MAX_BATCH_NODES, NAME_PREFIX_PATTERN, NAME_PREFIX_RULE } from '../batch-names';

export class CreateNodeBatchDto {
  @ApiProperty({ example: 'rack1', description: `Nodes are named <namePrefix>-<n>, n zero-padded to the width of the last number (rack1-001 … rack1-200); ${NAME_PREFIX_RULE}` })
  @IsString() @MaxLength(38)
  @Matches(NAME_PREFIX_PATTERN, { message: `namePrefix must be ${NAME_PREFIX_RULE}` })
  namePrefix!: string;

  @ApiProperty({ minimum: 1, maximum: MAX_BATCH_NODES, example: 200 })
  @IsInt() @Min(1) @Max(MAX_BATCH_NODES)
  count!: number;

  @ApiPropertyOptional({ default: 1, minimum: 0, maximum: 999_999, description: 'The first node\'s number (a second batch with the same prefix continues where the first ended)' })
  @IsOptional() @IsInt() @Min(0) @Max(999_999)
  firstIndex?: number;

  @ApiProperty({ enum: ['sim'], description: 'Batches create simulated servers only (machine sim); create qemu nodes one at a time with POST /api/v1/nodes' })
  @Equals('sim', { message: 'machine must be sim: batches create simulated servers only; create qemu nodes one at a time with POST /api/v1/nodes' })
  machine!: 'sim';

  @ApiPropertyOptional({ default: 'admin', maxLength: 16 })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(16)
  @Matches(/^[\x21-\x7e]+$/, { message: 'ipmiUser must be printable ASCII without spaces' })
  ipmiUser?: string;

  @ApiPropertyOptional({ description: 'Every node of the batch gets it. Never returned; generated (and returned once, by this call) when neither given nor set by NODE_DEFAULTS_IPMI_PASS', minLength: IPMI_PASSWORD_MIN_LENGTH, maxLength: IPMI_PASSWORD_MAX_LENGTH })
  @IsOptional() @IsString() @MinLength(IPMI_PASSWORD_MIN_LENGTH) @MaxLength(IPMI_PASSWORD_MAX_LENGTH)
  @Matches(/^[\x20-\x7e]+$/, { message: 'ipmiPassword must be printable ASCII' })
  ipmiPassword?: string;

  @ApiPropertyOptional({ default: false })
  @IsOptional() @IsBoolean()
  powerOnAtStart?: boolean;
}
