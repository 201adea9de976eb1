/** POST /api/v1/nodes/:name/power and /boot bodies. */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';
import { POWER_ACTIONS, PowerActionName } from '../node.model';

export class PowerActionDto {
  @ApiProperty({ enum: POWER_ACTIONS, description: 'on, off (hard), cycle, reset, soft (ACPI: the guest decides)' })
  @IsIn(POWER_ACTIONS, { message: `action must be one of ${POWER_ACTIONS.join(', ')}` })
  action!: PowerActionName;
}

export const BOOT_DEVICES = ['pxe', 'disk', 'cdrom', 'bios', 'none'] as const;
export type BootDeviceName = (typeof BOOT_DEVICES)[number];

export class BootDeviceDto {
  @ApiProperty({ enum: BOOT_DEVICES, description: 'Boot override at the next power-on or reset; none clears it' })
  @IsIn(BOOT_DEVICES, { message: `device must be one of ${BOOT_DEVICES.join(', ')}` })
  device!: BootDeviceName;

  @ApiPropertyOptional({ default: false, description: 'Keep the override for every boot instead of the next one' })
  @IsOptional() @IsBoolean()
  persistent?: boolean;

  @ApiPropertyOptional({ default: false, description: 'Ask for an EFI boot (IPMI boot flag); required to PXE-boot a uefi node through OVMF' })
  @IsOptional() @IsBoolean()
  efi?: boolean;
}
