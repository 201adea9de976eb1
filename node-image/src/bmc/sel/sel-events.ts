/**
 * The events the BMC logs on its own, as sensor-specific discrete events (event/reading type 6Fh,
 * IPMI v2.0 table 42-3) against the sensors of the default SDR set, so `ipmitool sel elist` names
 * the sensor and both ipmitool 1.8.19 and FreeIPMI print a standard description:
 *
 *   power-on             System ACPI Power State (22h) #08 "S0/G0: working"
 *   power-off            Power Unit (09h) #07 "Power off/down"
 *   power-cycle          Power Unit (09h) #07 "Power cycle"
 *   reset                System Boot Initiated (1Dh) #0A "Initiated by hard reset"
 *   soft-off             Button (14h) #09 "Power Button pressed" (the BMC presses the ACPI button)
 *   power-down-by-guest  System ACPI Power State (22h) #08 "S5/G2: soft-off"
 *   failure              Power Unit (09h) #07 "Failure detected"
 *   bmc-restart          System Event (12h) #0B "OEM System boot event"
 *   clock-sync           System Event (12h) #0B "Timestamp Clock Sync"
 *   log-cleared          Event Logging Disabled (10h) #0C "Log area reset/cleared"
 *
 * All are assertions with event data 2/3 unspecified (FFh).
 */
import {
  AcpiPowerStateOffset,
  ButtonOffset,
  EventLoggingOffset,
  EventReadingType,
  PowerUnitOffset,
  SensorType,
  SystemBootOffset,
  SystemEventOffset,
} from '../inventory/sensor-types';
import { SensorNumber } from '../inventory/sensors';

export type PowerEventKind = 'power-on' | 'power-off' | 'power-cycle' | 'reset' | 'soft-off' | 'power-down-by-guest' | 'failure';
export type BmcEventKind = 'bmc-restart' | 'clock-sync' | 'log-cleared';

export interface EventSpec {
  readonly sensorType: number;
  readonly sensorNumber: number;
  readonly eventType: number;
  readonly offset: number;
}

const specific = (sensorType: number, sensorNumber: number, offset: number): EventSpec =>
  ({ sensorType, sensorNumber, eventType: EventReadingType.SensorSpecific, offset });

export const POWER_EVENTS: Readonly<Record<PowerEventKind, EventSpec>> = {
  'power-on': specific(SensorType.SystemAcpiPowerState, SensorNumber.AcpiState, AcpiPowerStateOffset.Working),
  'power-off': specific(SensorType.PowerUnit, SensorNumber.SystemPower, PowerUnitOffset.PowerOff),
  'power-cycle': specific(SensorType.PowerUnit, SensorNumber.SystemPower, PowerUnitOffset.PowerCycle),
  'reset': specific(SensorType.SystemBootInitiated, SensorNumber.SystemRestart, SystemBootOffset.HardReset),
  'soft-off': specific(SensorType.Button, SensorNumber.PowerButton, ButtonOffset.PowerButton),
  'power-down-by-guest': specific(SensorType.SystemAcpiPowerState, SensorNumber.AcpiState, AcpiPowerStateOffset.SoftOff),
  'failure': specific(SensorType.PowerUnit, SensorNumber.SystemPower, PowerUnitOffset.FailureDetected),
};

export const BMC_EVENTS: Readonly<Record<BmcEventKind, EventSpec>> = {
  'bmc-restart': specific(SensorType.SystemEvent, SensorNumber.BmcStatus, SystemEventOffset.OemSystemBoot),
  'clock-sync': specific(SensorType.SystemEvent, SensorNumber.BmcStatus, SystemEventOffset.TimestampClockSync),
  'log-cleared': specific(SensorType.EventLoggingDisabled, SensorNumber.SelStatus, EventLoggingOffset.LogCleared),
};
