/** GET /api/v1/nodes query (src/nodes/node-list-query.ts has the rules). Every field optional. */
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { MACHINES, type MachineKind, type PowerState } from '../node.model';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, NAME_PREFIX_PATTERN, POWER_STATES } from '../node-list-query';

/** Cursors are short (a name and the filters); anything longer was not issued by this API. */
const CURSOR_MAX_LENGTH = 512;

export class ListNodesQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_LIMIT, description: `Page size. With limit or cursor the answer is a page, { items, nextCursor }; without both, an array of every matching node. Default ${DEFAULT_PAGE_LIMIT} when only cursor is given` })
  @IsOptional() @IsString()
  @Matches(/^[0-9]{1,7}$/, { message: `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}` })
  limit?: string;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page, unchanged; only with the same filters' })
  @IsOptional() @IsString() @MaxLength(CURSOR_MAX_LENGTH, { message: 'cursor is not one this API issued: pass the nextCursor of an earlier page unchanged' })
  cursor?: string;

  @ApiPropertyOptional({ description: 'Name prefix (not a substring): nodes whose name starts with it', example: 'rack1-' })
  @IsOptional() @IsString()
  @Matches(NAME_PREFIX_PATTERN, { message: 'name must be a name prefix: 1-40 of a-z, 0-9 and "-"' })
  name?: string;

  @ApiPropertyOptional({ enum: MACHINES })
  @IsOptional() @IsIn(MACHINES, { message: `machine must be one of ${MACHINES.join(', ')}` })
  machine?: MachineKind;

  @ApiPropertyOptional({ enum: POWER_STATES, description: 'The last power state read from the BMC' })
  @IsOptional() @IsIn(POWER_STATES, { message: `powerState must be one of ${POWER_STATES.join(', ')}` })
  powerState?: PowerState;
}
