/** GET/POST/DELETE /api/v1/nodes/:name/media: the node's virtual CD, through its BMC's Redfish. */
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiBadGatewayResponse, ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsUrl, MaxLength } from 'class-validator';
import { VirtualMediaService } from './virtual-media.service';

export class InsertMediaDto {
  @ApiProperty({ example: 'http://10.0.0.5/images/installer.iso', description: 'http or https URL the BMC streams the image from' })
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'image must be an http or https URL' })
  @MaxLength(2048)
  image!: string;
}

export class VirtualMediaDto {
  @ApiProperty() name!: string;
  @ApiProperty() inserted!: boolean;
  @ApiProperty({ nullable: true, type: String }) image!: string | null;
}

@ApiTags('nodes')
@ApiBearerAuth()
@Controller('nodes')
export class VirtualMediaController {
  constructor(private readonly media: VirtualMediaService) {}

  @Get(':name/media')
  @ApiOkResponse({ type: VirtualMediaDto, description: 'The virtual CD (Redfish Managers/1/VirtualMedia/Cd of the node\'s BMC)' })
  @ApiBadGatewayResponse({ description: 'The node\'s BMC did not answer' })
  get(@Param('name') name: string) {
    return this.media.get(name);
  }

  @Post(':name/media')
  @HttpCode(HttpStatus.OK)
  @ApiOkResponse({ type: VirtualMediaDto, description: 'Inserted (an image already there is ejected first)' })
  insert(@Param('name') name: string, @Body() body: InsertMediaDto) {
    return this.media.insert(name, body.image);
  }

  @Delete(':name/media')
  @ApiOkResponse({ type: VirtualMediaDto })
  eject(@Param('name') name: string) {
    return this.media.eject(name);
  }
}
