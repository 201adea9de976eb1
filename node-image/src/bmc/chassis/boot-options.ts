/**
 * System Boot Options: IPMI v2.0 sections 28.12 (Set) / 28.13 (Get), parameters of table 28-14;
 * reference 7.8. Pure model: time comes in as `now` (or through the injected clock for takeNextBoot).
 *
 * Parameters (data bytes after the parameter selector):
 *   0 Set In Progress (volatile)     1: bits 1:0 00 set complete, 01 set in progress, 10 commit write
 *   1 Service partition selector     1: selector (00h unspecified)
 *   2 Service partition scan         1: bit 1 request BIOS scan, bit 0 partition discovered
 *   3 Boot flag valid bit clearing   1: "don't clear the valid bit on ..." bit 4 PEF reset/cycle,
 *                                       bit 3 the 60 s timeout, bit 2 watchdog, bit 1 pushbutton/soft
 *                                       reset, bit 0 power-up via pushbutton or wake event
 *   4 Boot info acknowledge (vol.)   2: write mask (reads back 00h), acknowledge data (0 = handled:
 *                                       bit 4 OEM, 3 SMS, 2 OS/service partition, 1 OS loader, 0 BIOS)
 *   5 Boot flags                     5: 1 bit 7 valid, bit 6 persistent, bit 5 EFI; 2 bit 7 clear CMOS,
 *                                       bit 6 lock keyboard, bits 5:2 device, bit 1 screen blank,
 *                                       bit 0 lock reset; 3, 4, 5 further BIOS hints. Kept verbatim.
 *   6 Boot initiator info            9: channel, session id (u32le), timestamp (u32le)
 *   7 Boot initiator mailbox         1 + 1..16: block selector, block data (5 blocks of 16 bytes)
 * Anything else (including OEM 96-127) answers 0x80 "parameter not supported".
 *
 * Rules from the spec that this model follows:
 * - Set with byte 1 bit 7 marks the parameter invalid/locked; zero data bytes change only that mark.
 * - A second "set in progress" while one is in progress fails with 0x81; a system reset (a boot)
 *   returns the state to "set complete". Writes take effect at once (no rollback), so "commit write"
 *   is accepted and changes nothing.
 * - The boot flag valid bit is cleared 60 s after it was set unless parameter 3 bit 3 says not to;
 *   the countdown restarts whenever a Chassis Control command arrives (noteChassisControl) and ends
 *   when a boot consumes the flags. The spec makes no exception for persistent flags, so a persistent
 *   override that no boot has used within the countdown expires too (Ironic sets parameter 3 bit 3
 *   for exactly this reason).
 * - A boot that uses the flags clears the valid bit unless they are persistent, and clears the
 *   "BIOS/POST has handled boot info" acknowledge bit (the firmware has seen them).
 * - Restarts not caused by a Chassis Control command clear the valid bit unless parameter 3 says
 *   otherwise for that cause (noteRestart).
 * Parameters 1, 2, 3, 5, 6 and 7 persist in the StateStore document "boot.json"; 0 and 4 are volatile.
 */
import type { BootDevice, BootSelection, BootSource } from '../../machine/machine-control';
import { readJson, StateStore, writeJson } from '../../state/state-store';

export const BootOptionParameter = {
  SetInProgress: 0x00,
  ServicePartitionSelector: 0x01,
  ServicePartitionScan: 0x02,
  BootFlagValidBitClearing: 0x03,
  BootInfoAcknowledge: 0x04,
  BootFlags: 0x05,
  BootInitiatorInfo: 0x06,
  BootInitiatorMailbox: 0x07,
} as const;

/** Parameter 0 values (bits 1:0). */
export const SetInProgressState = {
  SetComplete: 0b00,
  SetInProgress: 0b01,
  CommitWrite: 0b10,
} as const;
const SET_IN_PROGRESS_MASK = 0x03;

/** Parameter 3 bits: 1 = do NOT clear the boot flag valid bit on that event. */
export const ValidBitClearing = {
  DontClearOnPefReset: 0x10,
  DontClearOnTimeout: 0x08,
  DontClearOnWatchdogReset: 0x04,
  DontClearOnPushbuttonOrSoftReset: 0x02,
  DontClearOnPowerButtonOrWake: 0x01,
} as const;

/** Parameter 4 data bits (0 = that party has handled the boot info). */
export const BootInfoAck = {
  BiosPost: 0x01,
  OsLoader: 0x02,
  OsServicePartition: 0x04,
  Sms: 0x08,
  Oem: 0x10,
} as const;

/** Parameter 5 data 1 bits. */
export const BootFlags1 = {
  Valid: 0x80,
  Persistent: 0x40,
  Efi: 0x20,
} as const;
const BOOT_DEVICE_SHIFT = 2;
const BOOT_DEVICE_MASK = 0x0f;

/** Parameter 5 data 2 bits 5:2 (boot device selector) → the machine's BootDevice. */
const BOOT_DEVICE_BY_SELECTOR: Readonly<Record<number, BootDevice>> = {
  0b0000: 'default',
  0b0001: 'pxe',
  0b0010: 'disk',
  0b0011: 'safe',
  0b0100: 'diag',
  0b0101: 'cdrom',
  0b0110: 'bios',
  // "remotely connected floppy/primary removable media": no separate remote floppy in BootDevice.
  0b0111: 'floppy',
  0b1000: 'remote-cdrom',
  0b1001: 'remote-primary',
  0b1011: 'remote-disk',
  0b1111: 'floppy',
};

/** Get System Boot Options response byte 1 ("parameter version", spec 28.13). */
export const BOOT_OPTION_PARAMETER_VERSION = 0x01;
/** Spec 28.12: the valid bit is cleared if no Chassis Control restart follows within 60 s. */
export const BOOT_FLAG_VALID_TIMEOUT_MS = 60_000;
/** The spec requires at least 80 bytes of mailbox: five 16-byte blocks. */
export const BOOT_MAILBOX_BLOCKS = 5;
export const BOOT_MAILBOX_BLOCK_SIZE = 16;

const BOOT_FLAGS_LENGTH = 5;
const BOOT_INITIATOR_INFO_LENGTH = 9;
const BOOT_INFO_ACK_LENGTH = 2;
const ONE_BYTE = 1;
const MAILBOX_SELECTOR_LENGTH = 1;

export const BOOT_OPTIONS_DOCUMENT = 'boot.json';

export type BootOptionsError = 'unsupported' | 'length' | 'invalid' | 'set-in-progress' | 'out-of-range';

export type BootOptionsReadResult =
  | { readonly ok: true; readonly markedInvalid: boolean; readonly data: Buffer }
  | { readonly ok: false; readonly error: BootOptionsError };

export type BootOptionsWriteResult = { readonly ok: true } | { readonly ok: false; readonly error: BootOptionsError };

/** Restarts not initiated by a Chassis Control command (spec table 28-14, parameter 3). */
export type NonCommandRestart = 'power-button' | 'soft-reset' | 'watchdog' | 'pef';

const KEEP_BIT_FOR_RESTART: Readonly<Record<NonCommandRestart, number>> = {
  'power-button': ValidBitClearing.DontClearOnPowerButtonOrWake,
  'soft-reset': ValidBitClearing.DontClearOnPushbuttonOrSoftReset,
  'watchdog': ValidBitClearing.DontClearOnWatchdogReset,
  'pef': ValidBitClearing.DontClearOnPefReset,
};

/** A decoded view of parameter 5, for logs and other management interfaces. */
export interface BootFlagsView {
  readonly valid: boolean;
  readonly persistent: boolean;
  readonly efi: boolean;
  readonly device: BootDevice;
  /** The five bytes exactly as stored. */
  readonly raw: Buffer;
}

export interface BootOptionsDeps {
  readonly store: StateStore;
  /** Clock for takeNextBoot(), which the machine calls without a time. Milliseconds since the epoch. */
  readonly clock: () => number;
}

interface BootOptionsDocument {
  readonly version: 1;
  readonly servicePartitionSelector: number;
  readonly servicePartitionScan: number;
  readonly validBitClearing: number;
  readonly bootFlags: string;
  readonly bootInitiatorInfo: string;
  readonly mailbox: readonly string[];
  readonly markedInvalid: readonly number[];
  readonly countdownStartedAt: number | null;
}

/** Parameters this model stores and the exact data length a Set must carry (mailbox: see write). */
const FIXED_LENGTH: Readonly<Record<number, number>> = {
  [BootOptionParameter.SetInProgress]: ONE_BYTE,
  [BootOptionParameter.ServicePartitionSelector]: ONE_BYTE,
  [BootOptionParameter.ServicePartitionScan]: ONE_BYTE,
  [BootOptionParameter.BootFlagValidBitClearing]: ONE_BYTE,
  [BootOptionParameter.BootInfoAcknowledge]: BOOT_INFO_ACK_LENGTH,
  [BootOptionParameter.BootFlags]: BOOT_FLAGS_LENGTH,
  [BootOptionParameter.BootInitiatorInfo]: BOOT_INITIATOR_INFO_LENGTH,
};

const isSupported = (parameter: number): boolean =>
  parameter in FIXED_LENGTH || parameter === BootOptionParameter.BootInitiatorMailbox;

export function decodeBootDevice(flagsByte2: number): BootDevice {
  return BOOT_DEVICE_BY_SELECTOR[(flagsByte2 >> BOOT_DEVICE_SHIFT) & BOOT_DEVICE_MASK] ?? 'default';
}

export class BootOptions implements BootSource {
  private readonly store: StateStore;
  private readonly clock: () => number;

  private setInProgress: number = SetInProgressState.SetComplete;
  private servicePartitionSelector = 0;
  private servicePartitionScan = 0;
  private validBitClearing = 0;
  /** Volatile: initialised to 00h when the BMC starts (spec). */
  private bootInfoAck = 0;
  private bootFlags: Buffer = Buffer.alloc(BOOT_FLAGS_LENGTH);
  private bootInitiatorInfo: Buffer = Buffer.alloc(BOOT_INITIATOR_INFO_LENGTH);
  private readonly mailbox: Buffer[] = Array.from({ length: BOOT_MAILBOX_BLOCKS }, () => Buffer.alloc(BOOT_MAILBOX_BLOCK_SIZE));
  private readonly markedInvalid = new Set<number>();
  /** When the 60 s valid-bit countdown (re)started; undefined when no countdown runs. */
  private countdownStartedAt: number | undefined;
  private changeListeners: Array<() => void> = [];

  constructor({ store, clock }: BootOptionsDeps) {
    this.store = store;
    this.clock = clock;
    this.load();
  }

  /** Get System Boot Options. setSelector is the mailbox block; other parameters ignore it. */
  read(parameter: number, setSelector: number, now: number): BootOptionsReadResult {
    this.expire(now);
    if (!isSupported(parameter)) return { ok: false, error: 'unsupported' };
    const data = this.parameterData(parameter, setSelector);
    if (!data) return { ok: false, error: 'out-of-range' };
    return { ok: true, markedInvalid: this.markedInvalid.has(parameter), data };
  }

  /** Set System Boot Options. `markInvalid` is request byte 1 bit 7; `data` follows the selector. */
  write(parameter: number, markInvalid: boolean, data: Buffer, now: number): BootOptionsWriteResult {
    this.expire(now);
    if (!isSupported(parameter)) return { ok: false, error: 'unsupported' };
    if (data.length > 0) {
      const result = this.writeData(parameter, data, now);
      if (!result.ok) return result;
    }
    if (markInvalid) this.markedInvalid.add(parameter);
    else this.markedInvalid.delete(parameter);
    this.save();
    return { ok: true };
  }

  /** A Chassis Control command arrived: the 60 s countdown starts over (parameter 3 bit 3 text). */
  noteChassisControl(now: number): void {
    this.expire(now);
    if (this.countdownStartedAt === undefined) return;
    this.countdownStartedAt = now;
    this.save();
  }

  /**
   * The system restarted for a reason other than a Chassis Control command. Call before the
   * machine's takeNextBoot() so that, unless parameter 3 keeps them, the flags do not apply.
   */
  noteRestart(cause: NonCommandRestart, now: number): void {
    this.expire(now);
    this.setInProgress = SetInProgressState.SetComplete;
    if ((this.validBitClearing & KEEP_BIT_FOR_RESTART[cause]) !== 0) return;
    if (!this.flagsValid()) return;
    this.clearValid();
    this.save();
  }

  /** BootSource: the override for the boot that is starting now; consumes "next boot only" flags. */
  takeNextBoot(): BootSelection {
    this.expire(this.clock());
    // Spec: a system reset while "set in progress" returns the state to "set complete".
    this.setInProgress = SetInProgressState.SetComplete;
    if (!this.flagsValid() || this.markedInvalid.has(BootOptionParameter.BootFlags)) return { device: 'default' };
    const byte1 = this.bootFlags[0]!;
    const selection: BootSelection = {
      device: decodeBootDevice(this.bootFlags[1]!),
      efi: (byte1 & BootFlags1.Efi) !== 0,
    };
    if ((byte1 & BootFlags1.Persistent) === 0) this.bootFlags[0] = byte1 & ~BootFlags1.Valid;
    this.countdownStartedAt = undefined;
    this.bootInfoAck &= ~BootInfoAck.BiosPost;
    this.save();
    return selection;
  }

  /**
   * Parameter 5 written by another management interface (the core boot-override record). Unlike an
   * IPMI Set, no 60 s valid-bit countdown starts: such a client expects its override to hold until
   * the boot that consumes it (a Redfish "Once" is consumed by the next boot, not by a timer).
   */
  writeBootFlags(data: Buffer, now: number): void {
    if (data.length !== BOOT_FLAGS_LENGTH) throw new Error(`boot flags are ${BOOT_FLAGS_LENGTH} bytes, got ${data.length}`);
    this.expire(now);
    this.bootFlags = Buffer.from(data);
    this.countdownStartedAt = undefined;
    this.markedInvalid.delete(BootOptionParameter.BootFlags);
    this.save();
  }

  /** Calls `listener` after every stored change (an IPMI Set, a boot consuming the flags, another interface's write). */
  onChange(listener: () => void): () => void {
    this.changeListeners = [...this.changeListeners, listener];
    return () => { this.changeListeners = this.changeListeners.filter((l) => l !== listener); };
  }

  /** Parameter 5 decoded (after applying the timeout at `now`). */
  bootFlagsView(now: number): BootFlagsView {
    this.expire(now);
    const byte1 = this.bootFlags[0]!;
    return {
      valid: (byte1 & BootFlags1.Valid) !== 0 && !this.markedInvalid.has(BootOptionParameter.BootFlags),
      persistent: (byte1 & BootFlags1.Persistent) !== 0,
      efi: (byte1 & BootFlags1.Efi) !== 0,
      device: decodeBootDevice(this.bootFlags[1]!),
      raw: Buffer.from(this.bootFlags),
    };
  }

  private parameterData(parameter: number, setSelector: number): Buffer | undefined {
    switch (parameter) {
      case BootOptionParameter.SetInProgress: return Buffer.from([this.setInProgress]);
      case BootOptionParameter.ServicePartitionSelector: return Buffer.from([this.servicePartitionSelector]);
      case BootOptionParameter.ServicePartitionScan: return Buffer.from([this.servicePartitionScan]);
      case BootOptionParameter.BootFlagValidBitClearing: return Buffer.from([this.validBitClearing]);
      // The write mask is write-only and reads back as 00h (spec).
      case BootOptionParameter.BootInfoAcknowledge: return Buffer.from([0x00, this.bootInfoAck]);
      case BootOptionParameter.BootFlags: return Buffer.from(this.bootFlags);
      case BootOptionParameter.BootInitiatorInfo: return Buffer.from(this.bootInitiatorInfo);
      case BootOptionParameter.BootInitiatorMailbox: {
        const block = this.mailbox[setSelector];
        return block ? Buffer.concat([Buffer.from([setSelector]), block]) : undefined;
      }
      default: return undefined;
    }
  }

  private writeData(parameter: number, data: Buffer, now: number): BootOptionsWriteResult {
    if (parameter === BootOptionParameter.BootInitiatorMailbox) return this.writeMailbox(data);
    if (data.length !== FIXED_LENGTH[parameter]) return { ok: false, error: 'length' };
    const first = data[0]!;
    switch (parameter) {
      case BootOptionParameter.SetInProgress:
        return this.writeSetInProgress(first & SET_IN_PROGRESS_MASK);
      case BootOptionParameter.ServicePartitionSelector:
        this.servicePartitionSelector = first;
        break;
      case BootOptionParameter.ServicePartitionScan:
        this.servicePartitionScan = first;
        break;
      case BootOptionParameter.BootFlagValidBitClearing:
        this.validBitClearing = first;
        break;
      case BootOptionParameter.BootInfoAcknowledge: {
        const mask = first;
        this.bootInfoAck = (this.bootInfoAck & ~mask) | (data[1]! & mask);
        break;
      }
      case BootOptionParameter.BootFlags:
        this.bootFlags = Buffer.from(data);
        this.countdownStartedAt = (first & BootFlags1.Valid) !== 0 ? now : undefined;
        break;
      case BootOptionParameter.BootInitiatorInfo:
        this.bootInitiatorInfo = Buffer.from(data);
        break;
    }
    return { ok: true };
  }

  private writeSetInProgress(state: number): BootOptionsWriteResult {
    switch (state) {
      case SetInProgressState.SetComplete:
        this.setInProgress = SetInProgressState.SetComplete;
        return { ok: true };
      case SetInProgressState.SetInProgress:
        // Spec completion code 81h: another party has already claimed the parameters.
        if (this.setInProgress === SetInProgressState.SetInProgress) return { ok: false, error: 'set-in-progress' };
        this.setInProgress = SetInProgressState.SetInProgress;
        return { ok: true };
      case SetInProgressState.CommitWrite:
        // Writes already took effect; the state is left as it is.
        return { ok: true };
      default:
        return { ok: false, error: 'invalid' };
    }
  }

  private writeMailbox(data: Buffer): BootOptionsWriteResult {
    const blockData = data.subarray(MAILBOX_SELECTOR_LENGTH);
    if (blockData.length === 0 || blockData.length > BOOT_MAILBOX_BLOCK_SIZE) return { ok: false, error: 'length' };
    const block = this.mailbox[data[0]!];
    if (!block) return { ok: false, error: 'out-of-range' };
    // A block write replaces the whole block; a short write leaves zeros after its data.
    block.fill(0);
    blockData.copy(block);
    return { ok: true };
  }

  /**
   * Nothing volatile pending: no Set In Progress (everything else, the valid-bit countdown and the
   * mailbox included, is in the state store). A BMC rebuilt from its state store then answers alike.
   */
  restable(): boolean {
    return this.setInProgress === SetInProgressState.SetComplete;
  }

  private flagsValid(): boolean {
    return (this.bootFlags[0]! & BootFlags1.Valid) !== 0;
  }

  private clearValid(): void {
    this.bootFlags[0] = this.bootFlags[0]! & ~BootFlags1.Valid;
    this.countdownStartedAt = undefined;
  }

  /** Applies the 60 s rule at `now`. */
  private expire(now: number): void {
    if (this.countdownStartedAt === undefined || !this.flagsValid()) return;
    if ((this.validBitClearing & ValidBitClearing.DontClearOnTimeout) !== 0) return;
    if (now - this.countdownStartedAt < BOOT_FLAG_VALID_TIMEOUT_MS) return;
    this.clearValid();
    this.save();
  }

  private load(): void {
    let doc: Partial<BootOptionsDocument> | undefined;
    try {
      doc = readJson<Partial<BootOptionsDocument>>(this.store, BOOT_OPTIONS_DOCUMENT);
    } catch {
      doc = undefined; // unreadable document: start from defaults rather than refuse to start
    }
    if (!doc || doc.version !== 1) return;
    this.servicePartitionSelector = byteOr(doc.servicePartitionSelector, 0);
    this.servicePartitionScan = byteOr(doc.servicePartitionScan, 0);
    this.validBitClearing = byteOr(doc.validBitClearing, 0);
    this.bootFlags = hexOr(doc.bootFlags, BOOT_FLAGS_LENGTH) ?? this.bootFlags;
    this.bootInitiatorInfo = hexOr(doc.bootInitiatorInfo, BOOT_INITIATOR_INFO_LENGTH) ?? this.bootInitiatorInfo;
    if (Array.isArray(doc.mailbox)) {
      doc.mailbox.forEach((hex, i) => {
        const block = hexOr(hex, BOOT_MAILBOX_BLOCK_SIZE);
        if (block && this.mailbox[i]) this.mailbox[i] = block;
      });
    }
    if (Array.isArray(doc.markedInvalid)) {
      for (const p of doc.markedInvalid) if (typeof p === 'number' && isSupported(p)) this.markedInvalid.add(p);
    }
    this.countdownStartedAt = typeof doc.countdownStartedAt === 'number' ? doc.countdownStartedAt : undefined;
  }

  private save(): void {
    const doc: BootOptionsDocument = {
      version: 1,
      servicePartitionSelector: this.servicePartitionSelector,
      servicePartitionScan: this.servicePartitionScan,
      validBitClearing: this.validBitClearing,
      bootFlags: this.bootFlags.toString('hex'),
      bootInitiatorInfo: this.bootInitiatorInfo.toString('hex'),
      mailbox: this.mailbox.map((b) => b.toString('hex')),
      markedInvalid: [...this.markedInvalid].sort((a, b) => a - b),
      countdownStartedAt: this.countdownStartedAt ?? null,
    };
    writeJson(this.store, BOOT_OPTIONS_DOCUMENT, doc);
    for (const listener of this.changeListeners) listener();
  }
}

function byteOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xff ? value : fallback;
}

function hexOr(value: unknown, length: number): Buffer | undefined {
  if (typeof value !== 'string' || !/^[0-9a-f]*$/i.test(value) || value.length !== length * 2) return undefined;
  return Buffer.from(value, 'hex');
}
