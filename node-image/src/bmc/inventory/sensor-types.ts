/**
 * Code tables shared by the SDR repository, the sensor commands and the SEL: sensor types
 * (IPMI v2.0 table 42-3), event/reading type codes (table 42-1/42-2), entity IDs (table 43-13) and
 * sensor unit type codes (table 43-15). Only the values this BMC uses are named.
 */

/** Sensor Type Codes (table 42-3). */
export const SensorType = {
  Temperature: 0x01,
  Voltage: 0x02,
  Fan: 0x04,
  PowerUnit: 0x09,
  EventLoggingDisabled: 0x10,
  SystemEvent: 0x12,
  Button: 0x14,
  SystemBootInitiated: 0x1d,
  SystemAcpiPowerState: 0x22,
} as const;

/** Event/Reading Type Codes (table 42-1): 01h threshold, 6Fh sensor-specific discrete. */
export const EventReadingType = {
  Threshold: 0x01,
  SensorSpecific: 0x6f,
} as const;

/** Entity ID Codes (table 43-13). */
export const EntityId = {
  Processor: 0x03,
  SystemManagementModule: 0x06,
  SystemBoard: 0x07,
  PowerUnit: 0x13,
  SystemChassis: 0x17,
  CoolingDevice: 0x1d,
  AirInlet: 0x37,
} as const;

/** Sensor Unit Type Codes (table 43-15), the "base unit" byte of a full sensor record. */
export const SensorUnit = {
  Unspecified: 0x00,
  DegreesC: 0x01,
  Volts: 0x04,
  Rpm: 0x12,
} as const;

/**
 * Sensor-specific offsets (table 42-3) of the discrete and event-only sensors this BMC logs to.
 * ipmitool 1.8.19 prints each with the text in the comment.
 */
export const PowerUnitOffset = {
  /** "Power off/down" */
  PowerOff: 0x00,
  /** "Power cycle" */
  PowerCycle: 0x01,
  /** "AC lost" */
  AcLost: 0x04,
  /** "Failure detected" */
  FailureDetected: 0x06,
} as const;

export const AcpiPowerStateOffset = {
  /** "S0/G0: working" */
  Working: 0x00,
  /** "S5/G2: soft-off" */
  SoftOff: 0x05,
  /** "G3: mechanical off" */
  MechanicalOff: 0x07,
  /** "S5: entered by override" */
  SoftOffByOverride: 0x0a,
} as const;

export const ButtonOffset = {
  /** "Power Button pressed" */
  PowerButton: 0x00,
  /** "Reset Button pressed" */
  ResetButton: 0x02,
} as const;

export const SystemBootOffset = {
  /** "Initiated by power up" */
  PowerUp: 0x00,
  /** "Initiated by hard reset" */
  HardReset: 0x01,
  /** "Initiated by warm reset" */
  WarmReset: 0x02,
} as const;

export const SystemEventOffset = {
  /** "System Reconfigured" */
  SystemReconfigured: 0x00,
  /** "OEM System boot event" */
  OemSystemBoot: 0x01,
  /** "Timestamp Clock Sync" */
  TimestampClockSync: 0x05,
} as const;

export const EventLoggingOffset = {
  /** "Log area reset/cleared" */
  LogCleared: 0x02,
  /** "Log full" */
  LogFull: 0x04,
} as const;
