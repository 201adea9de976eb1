/** GET /api/v1/exports/{metal3,ironic,maas} query: the driver, which nodes, and format options. */
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { MACHINES, type MachineKind } from '../../nodes/node.model';
import { DEFAULT_EXPORT_DRIVER, EXPORT_DRIVERS, type ExportDriver } from '../bmc-address';

const MAX_NAMES_TEXT = 65_536;
/** A Kubernetes namespace: an RFC 1123 label of at most 63 characters. */
export const NAMESPACE_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** A host name or an IPv4/IPv6 address as provisioning systems will dial it. */
export const HOST_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]+)$/;

function joined({ value }: { value: unknown }): unknown {
  return Array.isArray(value) ? value.join(',') : value;
}

function booleanText({ value }: { value: unknown }): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

export class ExportQueryDto {
  @ApiPropertyOptional({ enum: EXPORT_DRIVERS, default: DEFAULT_EXPORT_DRIVER, description: 'How the provisioning system drives the BMCs: IPMI, Redfish, or Redfish with virtual media (Metal3 and Ironic; MAAS has no virtual-media power type)' })
  @IsOptional() @IsIn(EXPORT_DRIVERS, { message: `driver must be one of ${EXPORT_DRIVERS.join(', ')}` })
  driver?: ExportDriver;

  @ApiPropertyOptional({ description: 'Only nodes whose name starts with this', example: 'rack1-' })
  @IsOptional() @IsString() @MaxLength(40)
  name?: string;

  @ApiPropertyOptional({ description: 'Only these nodes, comma-separated (each must exist)', example: 'node1,node2' })
  @IsOptional() @Transform(joined) @IsString() @MaxLength(MAX_NAMES_TEXT)
  names?: string;

  @ApiPropertyOptional({ enum: MACHINES, description: 'Only nodes of this machine kind' })
  @IsOptional() @IsIn(MACHINES, { message: `machine must be one of ${MACHINES.join(', ')}` })
  machine?: MachineKind;

  @ApiPropertyOptional({ description: 'metal3: metadata.namespace of every object (default: none, kubectl\'s namespace applies)', example: 'metal3' })
  @IsOptional() @IsString() @Matches(NAMESPACE_PATTERN, { message: 'namespace must be a Kubernetes namespace: 1–63 of a-z, 0-9 and "-", not starting or ending with "-"' })
  namespace?: string;

  @ApiPropertyOptional({ description: 'metal3: spec.online of every BareMetalHost (default false: the operator powers hosts on to inspect them, then leaves them off)' })
  @IsOptional() @Transform(booleanText) @IsBoolean({ message: 'online must be true or false' })
  online?: boolean;

  @ApiPropertyOptional({ description: 'The address provisioning systems reach the BMCs at (default: PUBLISH_ADDRESS, where the nodes\' ports are published)', example: '192.0.2.10' })
  @IsOptional() @IsString() @MaxLength(253) @Matches(HOST_PATTERN, { message: 'host must be a host name or an IP address' })
  host?: string;
}
