/**
 * The machine behind the BMC: power, boot and the serial console. Implementations: SimMachine
 * (MACHINE=sim) and, later, the QEMU machine. The BMC never keeps its own copy of the power state:
 * it asks powerState() every time.
 */
import type { MediaDrives } from './media-drives';

export type PowerState = 'on' | 'off';

/** Chassis Control actions (IPMI spec 28.3) in domain terms. */
export type PowerAction = 'on' | 'off' | 'cycle' | 'reset' | 'soft' | 'diag';

/** Why the power state changed, for the SEL and Get System Restart Cause. */
export type PowerChangeCause = 'command' | 'guest' | 'failure' | 'start';

/** Boot devices the IPMI boot flags can select (spec table 28-14, parameter 5 byte 2). */
export type BootDevice = 'default' | 'pxe' | 'disk' | 'safe' | 'diag' | 'cdrom' | 'bios' | 'floppy' | 'remote-cdrom' | 'remote-disk' | 'remote-primary';

export interface BootSelection {
  readonly device: BootDevice;
  /** true = EFI, false = legacy, undefined = the machine's configured default firmware. */
  readonly efi?: boolean;
  /** The BMC's firmware settings for this boot: Secure Boot firmware (UEFI boots only). */
  readonly secureBoot?: boolean;
  /** The BMC's firmware settings for this boot: boot menu wait in ms; undefined = the machine's own (VM_BOOT_MENU_TIMEOUT). */
  readonly bootMenuTimeoutMs?: number;
}

/** Supplies the boot override at each boot; the BMC's boot flags implement it (and clear "once" flags). */
export interface BootSource {
  takeNextBoot(): BootSelection;
}

export interface MachineEvents {
  power: (state: PowerState, cause: PowerChangeCause) => void;
  serial: (data: Buffer) => void;
}

export class MachineError extends Error {
  constructor(message: string, readonly reason: 'busy' | 'unsupported' | 'failed') {
    super(message);
    this.name = 'MachineError';
  }
}

export interface MachineControl {
  readonly kind: string;
  /** Its removable-media drives, for virtual media (absent: the machine has none). */
  readonly media?: MediaDrives;
  powerState(): Promise<PowerState>;
  /**
   * Starts the action. Resolves when it has been carried out or, for 'soft', handed to the guest.
   * Rejects with MachineError when it cannot be done now ('busy') or at all ('unsupported').
   */
  power(action: PowerAction): Promise<void>;
  /** Bytes typed on the SOL console, to the machine's serial port. */
  writeSerial(data: Buffer): void;
  /** A serial break (SOL "generate break"). */
  sendBreak(): void;
  on<E extends keyof MachineEvents>(event: E, listener: MachineEvents[E]): () => void;
  /** Stops the machine's processes and timers; the BMC is shutting down. */
  close(): Promise<void>;
}
