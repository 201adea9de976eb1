/** POST /api/v1/containerlab/topology body: what the GET query says, as JSON (for long link lists). */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Matches, ValidateNested,
} from 'class-validator';
import { TOPOLOGY_MODES, type TopologyMode } from '../topology-nodes';
import {
  FORMAT_DESCRIPTION, LINKS_DESCRIPTION, MAX_LINKS, MAX_SELECTED_NODES, MODE_DESCRIPTION, NAME_DESCRIPTION, TOPOLOGY_FORMATS,
  type TopologyFormat,
} from './topology-options';

/** node:interface, split at the first ":" (the renderer checks the names). */
const ENDPOINT = /^[^:\s]+:\S+$/;

export class TopologyLinkDto {
  @ApiProperty({ type: [String], minItems: 2, maxItems: 2, description: 'Two endpoints node:interface, as in containerlab\'s links', example: ['node1:eth1', 'switch:eth1'] })
  @IsArray() @ArrayMinSize(2) @ArrayMaxSize(2) @IsString({ each: true })
  @Matches(ENDPOINT, { each: true, message: 'each endpoint must be node:interface, e.g. node1:eth1' })
  endpoints!: string[];
}

export class TopologyRequestDto {
  @ApiPropertyOptional({ type: [String], description: 'API names of the nodes to render (default: every node)', example: ['node1', 'node2'] })
  @IsOptional() @IsArray() @ArrayMaxSize(MAX_SELECTED_NODES) @IsString({ each: true })
  nodes?: string[];

  @ApiPropertyOptional({ enum: TOPOLOGY_MODES, default: 'ext-container', description: MODE_DESCRIPTION })
  @IsOptional() @IsIn(TOPOLOGY_MODES, { message: `mode must be one of ${TOPOLOGY_MODES.join(', ')}` })
  mode?: TopologyMode;

  @ApiPropertyOptional({ description: NAME_DESCRIPTION, example: 'rack1' })
  @IsOptional() @IsString()
  name?: string;

  @ApiPropertyOptional({ type: [TopologyLinkDto], description: LINKS_DESCRIPTION, maxItems: MAX_LINKS })
  @IsOptional() @IsArray() @ArrayMaxSize(MAX_LINKS) @ValidateNested({ each: true }) @Type(() => TopologyLinkDto)
  links?: TopologyLinkDto[];

  @ApiPropertyOptional({ enum: TOPOLOGY_FORMATS, default: 'yaml', description: FORMAT_DESCRIPTION })
  @IsOptional() @IsIn(TOPOLOGY_FORMATS, { message: `format must be one of ${TOPOLOGY_FORMATS.join(', ')}` })
  format?: TopologyFormat;
}
