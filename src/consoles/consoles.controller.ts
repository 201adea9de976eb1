/** GET /api/v1/nodes/:name/screenshot.png: the node's screen, taken by its BMC (QMP screendump). */
import { BadRequestException, Controller, Get, Header, Param, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ScreenshotService, SCREENSHOT_WIDTH } from './screenshot.service';

/** The `width` query: absent, or an integer within SCREENSHOT_WIDTH. */
export function parseWidth(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const width = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(width >= SCREENSHOT_WIDTH.min && width <= SCREENSHOT_WIDTH.max)) {
    throw new BadRequestException(`width must be an integer from ${SCREENSHOT_WIDTH.min} to ${SCREENSHOT_WIDTH.max} (pixels; the height follows the screen's aspect)`);
  }
  return width;
}

@ApiTags('nodes')
@ApiBearerAuth()
@Controller('nodes')
export class ConsolesController {
  constructor(private readonly screenshots: ScreenshotService) {}

  @Get(':name/screenshot.png')
  @Header('Content-Type', 'image/png')
  @Header('Cache-Control', 'no-store')
  @ApiProduces('image/png')
  @ApiQuery({ name: 'width', required: false, type: Number, description: `Shrink to this many pixels wide (${SCREENSHOT_WIDTH.min}–${SCREENSHOT_WIDTH.max}), for thumbnails` })
  @ApiOkResponse({ description: 'The node\'s screen as PNG (503 while the VM is off; 404 for a simulated node, which has no screen)' })
  async screenshot(@Param('name') name: string, @Query('width') width?: string): Promise<StreamableFile> {
    return new StreamableFile(await this.screenshots.take(name, parseWidth(width)));
  }
}
