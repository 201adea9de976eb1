/**
 * POST /api/v1/nodes body (design.md section 3). Limits are the agent's own (node-image/src/config.ts
 * and machine/qemu-config.ts), so a node the API accepts is a node whose agent starts.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize, ArrayUnique, IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength,
} from 'class-validator';
import { IPMI_PASSWORD_MAX_LENGTH, IPMI_PASSWORD_MIN_LENGTH } from '../../config/env.schema';
import { CDROM_MAX_LENGTH } from '../../media/cdrom-path';
import { BOOT_MODES, BootMode, KVM_MODES, KvmMode, MACHINES, MachineKind, NODE_NAME_PATTERN, NODE_NAME_RULE } from '../node.model';

/** VM_NETWORKS entries the agent bridges (one PCIe root port each). */
export const MAX_VM_INTERFACES = 8;
/** IPMI 2.0 user names are at most 16 bytes, passwords 20 (Set User Password, 20-byte form). */
const IPMI_USER_MAX = 16;
/** Docker network names: what `docker network create` accepts. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
/** Linux interface names: at most 15 characters, no "/", no blanks; eth0 is the container's own. */
/** A host name (RFC 1123, up to 253 characters) or a swarm node id (25 lower-case alphanumerics). */
const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9])?$/;
const HOST_MAX_LENGTH = 253;
export const INTERFACE_NAME = /^(?!eth0$)[a-zA-Z0-9_.-]{1,15}$/;

export class CreateNodeDto {
  @ApiProperty({ example: 'node1', description: NODE_NAME_RULE })
  @IsString()
  @Matches(NODE_NAME_PATTERN, { message: `name must be ${NODE_NAME_RULE}` })
  name!: string;

  @ApiPropertyOptional({ default: 2048, minimum: 128, maximum: 1048576 })
  @IsOptional() @IsInt() @Min(128) @Max(1048576)
  memoryMiB?: number;

  @ApiPropertyOptional({ default: 2, minimum: 1, maximum: 255 })
  @IsOptional() @IsInt() @Min(1) @Max(255)
  cpus?: number;

  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: 65536 })
  @IsOptional() @IsInt() @Min(1) @Max(65536)
  diskSizeGiB?: number;

  @ApiPropertyOptional({ description: 'An ISO in the orchestrator\'s ISO_DIR, by name or path relative to it (an absolute path only inside ISO_DIR); attached read-only as CD-ROM', example: 'debian-12.iso' })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(CDROM_MAX_LENGTH)
  cdrom?: string;

  @ApiPropertyOptional({ enum: BOOT_MODES, default: 'bios' })
  @IsOptional() @IsIn(BOOT_MODES, { message: `bootMode must be one of ${BOOT_MODES.join(', ')}` })
  bootMode?: BootMode;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: 65535 })
  @IsOptional() @IsInt() @Min(0) @Max(65535)
  bootMenuTimeoutMs?: number;

  @ApiPropertyOptional({ default: 'admin', maxLength: IPMI_USER_MAX })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(IPMI_USER_MAX)
  @Matches(/^[\x21-\x7e]+$/, { message: 'ipmiUser must be printable ASCII without spaces' })
  ipmiUser?: string;

  @ApiPropertyOptional({ description: 'Never returned. Generated (and returned once, by this call) when neither given nor set by NODE_DEFAULTS_IPMI_PASS', minLength: IPMI_PASSWORD_MIN_LENGTH, maxLength: IPMI_PASSWORD_MAX_LENGTH })
  @IsOptional() @IsString() @MinLength(IPMI_PASSWORD_MIN_LENGTH) @MaxLength(IPMI_PASSWORD_MAX_LENGTH)
  @Matches(/^[\x20-\x7e]+$/, { message: 'ipmiPassword must be printable ASCII' })
  ipmiPassword?: string;

  @ApiPropertyOptional({ type: [String], description: 'Docker networks attached after start as eth1, eth2, … and bridged into the VM', example: ['vmlan-a'] })
  @IsOptional() @IsString({ each: true }) @ArrayUnique() @ArrayMaxSize(MAX_VM_INTERFACES)
  @Matches(NETWORK_NAME, { each: true, message: 'each network must be a Docker network name' })
  networks?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Interfaces others plug in after start (containerlab links), bridged into the VM when they appear', example: ['eth3'] })
  @IsOptional() @IsString({ each: true }) @ArrayUnique() @ArrayMaxSize(MAX_VM_INTERFACES)
  @Matches(INTERFACE_NAME, { each: true, message: 'each lab interface must be a Linux interface name (1-15 of a-z A-Z 0-9 _ . -), not eth0' })
  labInterfaces?: string[];

  @ApiPropertyOptional({ default: false })
  @IsOptional() @IsBoolean()
  powerOnAtStart?: boolean;

  @ApiPropertyOptional({ enum: MACHINES, default: 'qemu' })
  @IsOptional() @IsIn(MACHINES, { message: `machine must be one of ${MACHINES.join(', ')}` })
  machine?: MachineKind;

  @ApiPropertyOptional({ default: false, description: 'On a kept disk, keep the users its BMC has (made over IPMI by an earlier owner) instead of resetting them to ipmiUser/ipmiPassword' })
  @IsOptional() @IsBoolean()
  keepBmcUsers?: boolean;

  @ApiPropertyOptional({
    description: 'The host to place the node on: a host name or the runtime\'s id of it (a Docker Swarm node\'s name or id). Default: the host taking new nodes that holds the fewest nodes. On a plain Docker engine only its own host (its name in GET /api/v1/nodes) is accepted.',
    example: 'host2',
    maxLength: HOST_MAX_LENGTH,
  })
  @IsOptional() @IsString() @MaxLength(HOST_MAX_LENGTH)
  @Matches(HOST_NAME, { message: 'host must be a host name or a swarm node id (letters, digits, ".", "-", "_")' })
  host?: string;

  @ApiPropertyOptional({ enum: KVM_MODES, description: 'Default: NODE_DEFAULTS_ENABLE_KVM, else auto' })
  @IsOptional() @IsIn(KVM_MODES, { message: `enableKvm must be one of ${KVM_MODES.join(', ')}` })
  enableKvm?: KvmMode;
}
