/** POST /api/v1/node-batches (node-batches.service.ts). */
import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { CreatedNodeBatchDto } from './dto/created-node-batch.dto';
import { CreateNodeBatchDto } from './dto/create-node-batch.dto';
import { NodeBatchesService } from './node-batches.service';

@ApiTags('nodes')
@ApiBearerAuth()
@Controller('node-batches')
export class NodeBatchesController {
  constructor(private readonly batches: NodeBatchesService) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiCreatedResponse({ type: CreatedNodeBatchDto, description: 'Every node runs and its BMC answers; their names and addresses, in name order' })
  @ApiBadRequestResponse({ description: 'A field breaks its rule (count 1-10000, namePrefix, machine other than sim, …)' })
  @ApiConflictResponse({ description: 'Some of the names are taken (all of them are listed); nothing was created' })
  @ApiServiceUnavailableResponse({ description: 'The port ranges cannot hold the batch, or a node could not be made (the batch was undone)' })
  create(@Body() body: CreateNodeBatchDto) {
    return this.batches.create(body);
  }
}
