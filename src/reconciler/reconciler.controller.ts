/** `POST /api/v1/reconcile`: run the reconciler now (or join the run in progress) and see its report. */
import { Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ReconcileReportDto } from './reconcile-report.dto';
import { ReconcilerService } from './reconciler.service';

@ApiTags('reconciler')
@ApiBearerAuth()
@Controller('reconcile')
export class ReconcilerController {
  constructor(private readonly reconciler: ReconcilerService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Repair drift between the database and Docker now; joins a run already in progress' })
  @ApiOkResponse({ type: ReconcileReportDto })
  reconcile(): Promise<ReconcileReportDto> {
    return this.reconciler.reconcileNow();
  }
}
