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
import type { BmcEvents } from './bmc-events';
import type { EventLog } from './event-log';
import type { FirmwareSettings } from './firmware-settings';
import type { SensorDefinition } from '../bmc/inventory/sensors';
import type { PowerService } from './power-service';
import type { VirtualMediaService } from './virtual-media';

export interface BmcCore {
  readonly machine: MachineControl;
  readonly power: PowerService;
  readonly bootOverride: BootOverrideRecord;
  readonly eventLog: EventLog;
  readonly accounts: Accounts;
  /** What changes (power, boot override, event log entries, virtual media), for event front ends. */
  readonly events: BmcEvents;
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
  /** BIOS attributes and Secure Boot, applied at the next boot (absent: the resources answer 404). */
  readonly firmware?: FirmwareSettings;
  /** The sensors the IPMI SDR serves; Redfish Thermal and Power read the same ones. */
  readonly sensors?: readonly SensorDefinition[];
  /** The ports this BMC serves its protocols on, for Manager NetworkProtocol. */
  readonly protocols?: () => ManagerProtocols;
}

export interface ManagerProtocols {
  readonly ipmiPort: number;
  /** undefined: no Redfish service (REDFISH_PORT=none). */
  readonly redfishPort: number | undefined;
  /** The VM console's VNC port; undefined: none (VNC_PORT=none, or a simulated machine). */
  readonly vncPort: number | undefined;
  readonly hostName: string;
}

/** What the machine is built of, for inventories (Redfish ProcessorSummary, MemorySummary). */
export interface MachineHardware {
  readonly cpus: number;
  readonly memoryMiB: number;
  /** The VM's network interfaces (VM_NETWORKS entries) and their MACs. */
  readonly nics?: readonly MachineNic[];
  /** The system disk's size (VM_DISK_SIZE). */
  readonly diskSizeBytes?: number;
}

export interface MachineNic {
  /** The container interface it is bridged to, e.g. eth1. */
  readonly name: string;
  readonly mac: string;
}
