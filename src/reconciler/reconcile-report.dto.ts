/** The answer of `POST /api/v1/reconcile`: what one reconciler run repaired, and what failed. */
import { ApiProperty } from '@nestjs/swagger';
import { REPAIR_KINDS, type RepairKind } from '../metrics/fleet-metrics.service';
import type { ReconcileError, ReconcileRepair, ReconcileReport } from './reconciler.service';

export class ReconcileRepairDto implements ReconcileRepair {
  @ApiProperty({ enum: REPAIR_KINDS })
  readonly kind!: RepairKind;

  @ApiProperty({ description: "The node's name, or the container's when no node is known", example: 'web1' })
  readonly node!: string;

  @ApiProperty({ example: 'container bmcfleet-web1 is missing; re-created it' })
  readonly message!: string;
}

export class ReconcileErrorDto implements ReconcileError {
  @ApiProperty({ type: String, nullable: true, description: 'null when the whole run failed (e.g. Docker did not answer)' })
  readonly node!: string | null;

  @ApiProperty()
  readonly message!: string;
}

export class ReconcileReportDto implements ReconcileReport {
  @ApiProperty({ format: 'date-time' })
  readonly startedAt!: string;

  @ApiProperty()
  readonly durationMs!: number;

  @ApiProperty({ type: [ReconcileRepairDto] })
  readonly repairs!: readonly ReconcileRepairDto[];

  @ApiProperty({ type: [ReconcileErrorDto] })
  readonly errors!: readonly ReconcileErrorDto[];

  @ApiProperty({ type: [String], description: 'Drift left alone on purpose, e.g. a leased port outside a narrowed range' })
  readonly warnings!: readonly string[];
}
