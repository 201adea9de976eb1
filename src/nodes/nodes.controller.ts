/** HTTP API of the fleet's nodes under /api/v1/nodes (design.md section 3). */
import { BadRequestException, Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiQuery, ApiTags, ApiBadGatewayResponse } from '@nestjs/swagger';
import { CreateNodeDto } from './dto/create-node.dto';
import { ListNodesQueryDto } from './dto/list-nodes-query.dto';
import { CreatedNodeDto, NodeEventDto, NodeViewDto, PowerResultDto, VncAccessDto } from './dto/node-view.dto';
import { BootDeviceDto, PowerActionDto } from './dto/power.dto';
import { NodeListing } from './node-listing.service';
import { NodesService } from './nodes.service';

function parseFlag(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new BadRequestException(`${name} must be true or false`);
}

@ApiTags('nodes')
@ApiBearerAuth()
@Controller('nodes')
export class NodesController {
  constructor(
    private readonly nodes: NodesService,
    private readonly listing: NodeListing,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedNodeDto, description: 'The node runs and its BMC answers on ipmi.host:ipmi.port' })
  @ApiConflictResponse({ description: 'A node with this name exists' })
  create(@Body() body: CreateNodeDto) {
    return this.nodes.create(body);
  }

  @Get()
  @ApiOkResponse({ description: 'Without limit and cursor: an array of every matching node (NodeView). With either: a page, { items: NodeView[], nextCursor: string | null }, in name order' })
  list(@Query() query: ListNodesQueryDto) {
    const { limit, ...rest } = query;
    return this.listing.list({ ...rest, ...(limit === undefined ? {} : { limit: Number(limit) }) });
  }

  @Get(':name')
  @ApiOkResponse({ type: NodeViewDto })
  @ApiNotFoundResponse()
  get(@Param('name') name: string) {
    return this.nodes.get(name);
  }

  @Get(':name/vnc')
  @ApiOkResponse({ type: VncAccessDto, description: 'The VNC console\'s address and password (never in list or get)' })
  @ApiNotFoundResponse()
  vnc(@Param('name') name: string) {
    return this.nodes.vnc(name);
  }

  @Get(':name/events')
  @ApiOkResponse({ type: [NodeEventDto], description: 'What happened to the node, oldest first (creates, power actions, repairs)' })
  events(@Param('name') name: string) {
    return this.nodes.events(name);
  }

  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiQuery({ name: 'purge', required: false, type: Boolean, description: 'Also delete the node\'s disk volume' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async remove(@Param('name') name: string, @Query('purge') purge?: string): Promise<void> {
    await this.nodes.remove(name, parseFlag('purge', purge));
  }

  @Post(':name/power')
  @HttpCode(HttpStatus.OK)
  @ApiBody({ type: PowerActionDto })
  @ApiOkResponse({ type: PowerResultDto, description: 'Done through the node\'s own BMC (IPMI Chassis Control)' })
  @ApiBadGatewayResponse({ description: 'The node\'s BMC did not answer' })
  power(@Param('name') name: string, @Body() body: PowerActionDto) {
    return this.nodes.power(name, body.action);
  }

  @Get(':name/power')
  @ApiOkResponse({ type: PowerResultDto, description: 'Read live from the node\'s BMC (IPMI Get Chassis Status)' })
  powerStatus(@Param('name') name: string) {
    return this.nodes.powerStatus(name);
  }

  @Post(':name/boot')
  @HttpCode(HttpStatus.OK)
  @ApiBody({ type: BootDeviceDto })
  @ApiOkResponse({ description: 'Boot override set through the node\'s BMC (IPMI Set System Boot Options, boot flags)' })
  boot(@Param('name') name: string, @Body() body: BootDeviceDto) {
    return this.nodes.setBoot(name, body);
  }
}
