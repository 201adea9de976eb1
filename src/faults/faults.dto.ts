/** OpenAPI shapes of the fault API; the rules themselves are checked by the agent's parser (fault-rules.ts). */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FaultMatchDto {
  @ApiProperty({ enum: ['ipmi', 'redfish', 'sol', 'power'] }) protocol!: string;
  @ApiPropertyOptional({ description: 'IPMI network function, 0-63 (or "0x00")', example: 0 }) netFn?: number;
  @ApiPropertyOptional({ description: 'IPMI command, 0-255 (or "0x01")', example: 1 }) cmd?: number;
  @ApiPropertyOptional({ enum: ['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE'] }) method?: string;
  @ApiPropertyOptional({ description: 'Redfish path; * is one segment, a final ** any rest', example: '/redfish/v1/Systems/*' }) path?: string;
  @ApiPropertyOptional({ description: 'Redfish ResetType or power action (On, ForceOff, on, off, ...)' }) resetType?: string;
}

export class FaultActionDto {
  @ApiProperty({ enum: ['drop', 'delay', 'duplicate', 'completion-code', 'stop-answering', 'bmc-reboot', 'http-status', 'power-stuck', 'session-expiry', 'sol-deactivate'] }) kind!: string;
  @ApiPropertyOptional({ description: 'delay, stop-answering, bmc-reboot: milliseconds' }) ms?: number;
  @ApiPropertyOptional({ description: 'completion-code: 0x01-0xff (e.g. "0xC0" busy)' }) code?: number;
  @ApiPropertyOptional({ description: 'http-status: 400-599' }) status?: number;
  @ApiPropertyOptional({ description: 'http-status: seconds in Retry-After' }) retryAfter?: number;
}

export class FaultWhenDto {
  @ApiPropertyOptional({ description: 'Chance per match, (0, 1]' }) probability?: number;
  @ApiPropertyOptional({ description: 'Seed of the rule\'s random draws' }) seed?: number;
  @ApiPropertyOptional({ description: 'Matches let through before the rule acts' }) afterMatches?: number;
  @ApiPropertyOptional({ description: 'The rule acts at most this many times' }) maxTimes?: number;
  @ApiPropertyOptional({ description: 'The rule acts for this long after it was added' }) durationMs?: number;
}

export class FaultRuleDto {
  @ApiProperty({ type: FaultMatchDto }) match!: FaultMatchDto;
  @ApiProperty({ type: FaultActionDto }) action!: FaultActionDto;
  @ApiPropertyOptional({ type: FaultWhenDto }) when?: FaultWhenDto;
}

export class FaultRulesDto {
  @ApiProperty({ type: [FaultRuleDto] }) rules!: FaultRuleDto[];
}

export class FaultRuleViewDto extends FaultRuleDto {
  @ApiProperty({ example: 'f1' }) id!: string;
  @ApiProperty() addedAt!: string;
  @ApiProperty({ description: 'Events the rule matched' }) matches!: number;
  @ApiProperty({ description: 'Times the rule acted' }) applied!: number;
  @ApiProperty({ enum: ['active', 'exhausted', 'expired'] }) status!: string;
}

export class NodeFaultsDto {
  @ApiProperty() name!: string;
  @ApiProperty({ type: [FaultRuleViewDto] }) rules!: FaultRuleViewDto[];
  @ApiPropertyOptional({ description: 'GET: faults applied since the agent started, by action kind (silent: requests swallowed by a silence)', type: 'object', additionalProperties: { type: 'number' } })
  totals?: Record<string, number>;
}

export class RemovedFaultsDto {
  @ApiProperty() name!: string;
  @ApiProperty() removed!: number;
}
