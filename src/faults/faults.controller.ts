/** POST/GET/DELETE /api/v1/nodes/:name/faults: fault rules acting on a node's BMC (docs/operations.md). */
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiBadGatewayResponse, ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiExtraModels, ApiNotFoundResponse, getSchemaPath, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { FaultRuleDto, FaultRulesDto, NodeFaultsDto, RemovedFaultsDto } from './faults.dto';
import { NodeFaultsService } from './node-faults.service';

@ApiTags('faults')
@ApiExtraModels(FaultRuleDto, FaultRulesDto)
@ApiBearerAuth()
@Controller('nodes')
export class FaultsController {
  constructor(private readonly faults: NodeFaultsService) {}

  @Post(':name/faults')
  @ApiBody({ description: 'One rule { match, action, when? }, or { rules: [ ... ] } (all are added or none)', schema: { oneOf: [{ $ref: getSchemaPath(FaultRuleDto) }, { $ref: getSchemaPath(FaultRulesDto) }] } })
  @ApiCreatedResponse({ type: NodeFaultsDto, description: 'The rules added, with their ids (f1, f2, ...)' })
  @ApiBadRequestResponse({ description: 'A rule is not valid: the message names the field and the rule (e.g. match.netFn must be an integer from 0 to 63)' })
  @ApiConflictResponse({ description: 'The node is not running' })
  @ApiBadGatewayResponse({ description: "The node's fault control channel cannot be reached" })
  add(@Param('name') name: string, @Body() body: unknown) {
    return this.faults.add(name, body);
  }

  @Get(':name/faults')
  @ApiOkResponse({ type: NodeFaultsDto, description: 'The rules with how often each matched and acted, and totals by action kind' })
  @ApiNotFoundResponse()
  list(@Param('name') name: string) {
    return this.faults.list(name);
  }

  @Delete(':name/faults')
  @ApiOkResponse({ type: RemovedFaultsDto, description: 'Every rule removed (any silence they started ends)' })
  clearAll(@Param('name') name: string) {
    return this.faults.clear(name);
  }

  @Delete(':name/faults/:id')
  @HttpCode(HttpStatus.OK)
  @ApiOkResponse({ type: RemovedFaultsDto })
  @ApiNotFoundResponse({ description: 'No such node or no such rule' })
  clearOne(@Param('name') name: string, @Param('id') id: string) {
    return this.faults.clear(name, id);
  }
}
