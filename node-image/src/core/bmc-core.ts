/**
 * The BMC as a domain, shared by every protocol front end (IPMI, Redfish): power, the boot
 * override record, the event log, the users and their lockout, identity and inventory. Protocol
 * handlers translate onto these; none of these know a protocol.
 */
import type { MachineControl } from '../machine/machine-control';
import type { ChassisState } from '../bmc/chassis/chassis-state';
import type { FruIdentity } from '../bmc/inventory/fru-image.codec';
import type { Accounts } from './accounts';
import type { BootOverrideRecord } from './boot-override';
import type { EventLog } from './event-log';
import type { PowerService } from './power-service';
import type { VirtualMediaService } from './virtual-media';

export interface BmcCore {
  readonly machine: MachineControl;
  readonly power: PowerService;
  readonly bootOverride: BootOverrideRecord;
  readonly eventLog: EventLog;
  readonly accounts: Accounts;
  readonly chassis: ChassisState;
  /** Virtual media (Cd and UsbStick slots by URL). */
  readonly virtualMedia: VirtualMediaService;
  /** The system UUID in RFC 4122 text form (SMBIOS, `ipmitool mc guid`). */
  readonly systemUuid: string;
  /** The BMC's own UUID in RFC 4122 text form (the IPMI device GUID). */
  readonly bmcUuid: string;
  readonly product: FruIdentity;
  readonly nodeName: string;
  /** "major.minor" as Get Device ID reports it. */
  readonly firmwareVersion: string;
  readonly hardware: MachineHardware;
  readonly clock: () => number;
}

/** What the machine is built of, for inventories (Redfish ProcessorSummary, MemorySummary). */
export interface MachineHardware {
  readonly cpus: number;
  readonly memoryMiB: number;
}
