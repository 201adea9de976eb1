/** GET /api/v1/containerlab/topology query. Repeated parameters are joined (nodes by ",", links by ";"). */
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { ENDPOINT_SEPARATOR, LINK_SEPARATOR, LINKS_EXAMPLE } from '../links';
import { TOPOLOGY_MODES, type TopologyMode } from '../topology-nodes';
import {
  FORMAT_DESCRIPTION, LINKS_DESCRIPTION, MAX_LINKS_TEXT, MODE_DESCRIPTION, NAME_DESCRIPTION, TOPOLOGY_FORMATS, type TopologyFormat,
} from './topology-options';

const MAX_NODES_TEXT = 8192;

function joined(separator: string) {
  return ({ value }: { value: unknown }): unknown => (Array.isArray(value) ? value.join(separator) : value);
}

export class TopologyQueryDto {
  @ApiPropertyOptional({ description: 'Comma-separated API names of the nodes to render (default: every node)', example: 'node1,node2' })
  @IsOptional() @Transform(joined(ENDPOINT_SEPARATOR)) @IsString() @MaxLength(MAX_NODES_TEXT)
  nodes?: string;

  @ApiPropertyOptional({ enum: TOPOLOGY_MODES, default: 'ext-container', description: MODE_DESCRIPTION })
  @IsOptional() @IsIn(TOPOLOGY_MODES, { message: `mode must be one of ${TOPOLOGY_MODES.join(', ')}` })
  mode?: TopologyMode;

  @ApiPropertyOptional({ description: NAME_DESCRIPTION, example: 'rack1' })
  @IsOptional() @IsString()
  name?: string;

  @ApiPropertyOptional({ description: `${LINKS_DESCRIPTION} Longer lists: POST the same as JSON.`, example: LINKS_EXAMPLE, maxLength: MAX_LINKS_TEXT })
  @IsOptional() @Transform(joined(LINK_SEPARATOR)) @IsString()
  @MaxLength(MAX_LINKS_TEXT, { message: `links is longer than ${MAX_LINKS_TEXT} characters: POST /api/v1/containerlab/topology with the links as JSON instead` })
  links?: string;

  @ApiPropertyOptional({ enum: TOPOLOGY_FORMATS, default: 'yaml', description: FORMAT_DESCRIPTION })
  @IsOptional() @IsIn(TOPOLOGY_FORMATS, { message: `format must be one of ${TOPOLOGY_FORMATS.join(', ')}` })
  format?: TopologyFormat;
}
