/** OpenAPI description of the node view (src/nodes/node.model.ts NodeView). No password field, ever. */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BOOT_MODES, KVM_MODES, MACHINES } from '../node.model';

export class EndpointDto {
  @ApiProperty({ example: '127.0.0.1' }) host!: string;
  @ApiProperty({ example: 16230 }) port!: number;
}

export class IpmiEndpointDto extends EndpointDto {
  @ApiProperty({ example: 'admin' }) user!: string;
}

export class VncEndpointDto extends EndpointDto {
  @ApiProperty({ nullable: true, type: String, example: '/api/v1/nodes/node1/vnc', description: 'Where to read the VNC password (GET); null: the node has none yet (made before VNC passwords; its next re-create sets one)' })
  passwordAt!: string | null;
}

export class VncAccessDto extends EndpointDto {
  @ApiProperty({ example: 'node1' }) name!: string;
  @ApiProperty({ nullable: true, type: String, description: 'VNC authentication password (8 characters); null: none set yet' }) password!: string | null;
}

export class ContainerRefDto {
  @ApiProperty({ example: 'bmcfleet-node1' }) name!: string;
  @ApiProperty({ nullable: true, type: String }) id!: string | null;
}

export class NodeViewDto {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'node1' }) name!: string;
  @ApiProperty({ enum: ['creating', 'running', 'deleting', 'failed'] }) state!: string;
  @ApiProperty({ enum: ['on', 'off', 'unknown'], description: 'Last power state read from the node\'s BMC' }) powerState!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) powerObservedAt!: string | null;
  @ApiProperty({ enum: MACHINES }) machine!: string;
  @ApiProperty() memoryMiB!: number;
  @ApiProperty() cpus!: number;
  @ApiProperty() diskSizeGiB!: number;
  @ApiProperty({ nullable: true, type: String }) cdrom!: string | null;
  @ApiProperty({ enum: BOOT_MODES }) bootMode!: string;
  @ApiProperty() bootMenuTimeoutMs!: number;
  @ApiProperty({ enum: KVM_MODES }) enableKvm!: string;
  @ApiProperty() powerOnAtStart!: boolean;
  @ApiProperty({ type: [String] }) networks!: string[];
  @ApiProperty({ type: [String] }) labInterfaces!: string[];
  @ApiProperty({ type: IpmiEndpointDto }) ipmi!: IpmiEndpointDto;
  @ApiProperty({ type: VncEndpointDto }) vnc!: VncEndpointDto;
  @ApiProperty({ type: EndpointDto, nullable: true, description: 'The node\'s own Redfish service (HTTPS, the agent\'s certificate) on its leased port from REDFISH_PORT_RANGE, same port inside the container; null: made before Redfish ports, until its container is made anew' })
  redfish!: EndpointDto | null;
  @ApiProperty({ enum: ['reset', 'kept'], description: 'reset: the BMC\'s users were reset to ipmi.user and its password when the container was made (a kept disk\'s earlier users are gone); kept: keepBmcUsers was asked' })
  bmcUsers!: string;
  @ApiProperty({ nullable: true, type: Boolean, description: 'Whether the BMC answered the reconciler\'s last power check; false with powerState unknown: the container runs but its BMC is unreachable' })
  bmcReachable!: boolean | null;
  @ApiProperty({ type: ContainerRefDto, description: 'The node\'s runtime node: its name (on Docker, the container\'s) and the runtime\'s id of its current instance' })
  container!: ContainerRefDto;
  @ApiProperty({ nullable: true, type: String, example: 'lab-host-1', description: 'The host the node runs on, as its runtime names it (Docker: the engine\'s host name); null until it first ran' })
  host!: string | null;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class CreatedNodeDto extends NodeViewDto {
  @ApiPropertyOptional({ description: 'Only in the create response, only when the password was generated: keep it, it is never shown again' })
  generatedIpmiPassword?: string;
}

export class NodeEventDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ example: 'repaired' }) type!: string;
  @ApiProperty() message!: string;
}

export class PowerResultDto {
  @ApiProperty() name!: string;
  @ApiPropertyOptional() action?: string;
  @ApiProperty({ enum: ['on', 'off', 'unknown'] }) powerState!: string;
}
