/**
 * MACHINE=sim: a simulated server without a VM, for scale tests of provisioning systems. It behaves
 * like a small real machine on its serial console and power rails:
 *
 * - Power on/off take `timing.powerMs` before the state flips ('power' event, cause 'command'), and
 *   only then does power() resolve. Another power action during that time is refused as 'busy'.
 * - Each boot (power-on, hard reset, the "on" half of a cycle) asks the BootSource for the override
 *   and prints a firmware banner naming the firmware mode (and Secure Boot) and boot device, then after `firmwareMs`
 *   a kernel line, then after `kernelMs` an automatic root login and a shell prompt. Boot device
 *   'bios' stops in firmware setup instead. 'default' means the configured default device.
 * - The shell echoes what is typed (CR → CRLF, backspace, Ctrl-C), keeps type-ahead received while
 *   booting, and knows `echo`, `uname [-a|-r|-n]`, `hostname` and `poweroff` (the guest shuts down
 *   after `shutdownMs`: 'power' event with cause 'guest'); anything else is "sh: X: not found".
 * - soft (ACPI power button): a booted guest prints a shutdown message and powers off after
 *   `shutdownMs` (cause 'guest', since the guest decides). While still in firmware or booting the
 *   press is ignored, as an OS that has not yet loaded its ACPI button driver would.
 * - reset reboots at once (power stays on, no power event); cycle is off, `cycleOffMs`, on; diag
 *   makes a running kernel print the message Linux prints for an unknown NMI.
 * - soft, reset and diag while off do nothing; cycle while off powers on (the Chassis Control
 *   handler refuses those with 0xD5 before they get here).
 * - sendBreak() is accepted and ignored (the simulated console has no SysRq handler).
 * - Virtual media are recorded (media.setMedium answers at once); a boot from the CD (or from
 *   removable media, the USB stick) names the image in its banner, e.g.
 *   "Booting from DVD/CD (virtual media http://host/x.iso)...".
 * All output leaves through the 'serial' event. Every timer is cleared by close(); a power() still
 * in progress then rejects with MachineError 'failed'.
 */
import { Listeners } from './events';
import {
  type BootDevice,
  type BootSource,
  MachineError,
  type MachineControl,
  type MachineEvents,
  type PowerAction,
  type PowerChangeCause,
  type PowerState,
} from './machine-control';
import type { MediaDriveId, MediaDrives, RemoteMedium } from './media-drives';

export interface SimTiming {
  /** From a power on/off request until the power state flips. */
  readonly powerMs: number;
  /** Time spent off in the middle of a power cycle. */
  readonly cycleOffMs: number;
  /** Firmware (POST) time before the kernel starts. */
  readonly firmwareMs: number;
  /** Kernel boot time before the login prompt. */
  readonly kernelMs: number;
  /** Guest shutdown time after `poweroff` or an ACPI power button press. */
  readonly shutdownMs: number;
}

export const DEFAULT_SIM_TIMING: SimTiming = {
  powerMs: 300,
  cycleOffMs: 100,
  firmwareMs: 200,
  kernelMs: 500,
  shutdownMs: 300,
};

export interface SimMachineOptions {
  readonly boot: BootSource;
  /** Firmware used when the boot flags do not choose (VM_BOOT_MODE). */
  readonly firmware?: 'bios' | 'uefi';
  /** Device booted when the boot flags do not choose (VM_BOOT). */
  readonly defaultBootDevice?: BootDevice;
  /** The node's name, used as the guest's host name (default "bmcfleet-sim"). */
  readonly nodeName?: string;
  /** Shorthand for timing.powerMs (SIM_POWER_DELAY_MS). */
  readonly powerDelayMs?: number;
  readonly timing?: Partial<SimTiming>;
}

type GuestState = 'off' | 'firmware' | 'setup' | 'kernel' | 'shell' | 'shutting-down';

const BOOT_LABEL: Readonly<Record<BootDevice, string>> = {
  'default': 'Hard Disk',
  'pxe': 'PXE',
  'disk': 'Hard Disk',
  'safe': 'Hard Disk (safe mode)',
  'diag': 'diagnostic partition',
  'cdrom': 'DVD/CD',
  'bios': 'firmware setup',
  'floppy': 'removable media',
  'remote-cdrom': 'remote DVD/CD',
  'remote-disk': 'remote Hard Disk',
  'remote-primary': 'remote media',
};

/** The virtual media drive each boot device reads, where one does. */
const MEDIA_DRIVE: Partial<Record<BootDevice, MediaDriveId>> = { 'cdrom': 'cd', 'remote-cdrom': 'cd', 'floppy': 'usb', 'remote-primary': 'usb' };

const KERNEL_RELEASE = '6.1.0-bmcfleet-sim';
const CRLF = '\r\n';
const CR = 0x0d;
const LF = 0x0a;
const BACKSPACE = 0x08;
const DELETE = 0x7f;
const CTRL_C = 0x03;
const PRINTABLE_FIRST = 0x20;
const PRINTABLE_LAST = 0x7e;
/** Bytes kept while the guest is still booting, and the longest shell line. */
const TYPE_AHEAD_LIMIT = 4096;
const LINE_LIMIT = 1024;

export class SimMachine implements MachineControl {
  readonly kind = 'sim';

  private readonly events = new Listeners<MachineEvents>();
  private readonly boot: BootSource;
  private readonly firmware: 'bios' | 'uefi';
  private readonly defaultBootDevice: BootDevice;
  private readonly hostname: string;
  private readonly timing: SimTiming;

  private powered: PowerState = 'off';
  private guest: GuestState = 'off';
  /** A power action is being carried out (others are refused as 'busy'). */
  private busy = false;
  private closed = false;
  private line = '';
  private typeAhead: Buffer[] = [];
  private typeAheadBytes = 0;
  private lastWasCr = false;
  private readonly inserted = new Map<MediaDriveId, RemoteMedium>();

  readonly media: MediaDrives = {
    setMedium: (drive, medium) => {
      if (this.closed) return Promise.reject(new MachineError('the simulated machine is closed', 'failed'));
      if (medium) this.inserted.set(drive, medium);
      else this.inserted.delete(drive);
      return Promise.resolve();
    },
    media: () => new Map(this.inserted),
  };

  /** Timers of the power sequence, each with the rejecter of the wait it ends. */
  private readonly powerTimers = new Map<NodeJS.Timeout, (err: Error) => void>();
  /** Timers of the running guest (boot progress, shutdown); cancelled when it stops or resets. */
  private readonly guestTimers = new Set<NodeJS.Timeout>();

  constructor(options: SimMachineOptions) {
    this.boot = options.boot;
    this.firmware = options.firmware ?? 'bios';
    this.defaultBootDevice = options.defaultBootDevice && options.defaultBootDevice !== 'default' ? options.defaultBootDevice : 'disk';
    this.hostname = options.nodeName || 'bmcfleet-sim';
    this.timing = {
      ...DEFAULT_SIM_TIMING,
      ...(options.powerDelayMs === undefined ? {} : { powerMs: options.powerDelayMs }),
      ...options.timing,
    };
  }

  async powerState(): Promise<PowerState> {
    return this.powered;
  }

  async power(action: PowerAction): Promise<void> {
    if (this.closed) throw new MachineError('the simulated machine is closed', 'failed');
    if (this.busy) throw new MachineError('a power action is still in progress', 'busy');
    switch (action) {
      case 'on': return this.sequence(() => this.powerOn());
      case 'off': return this.sequence(() => this.powerOff());
      case 'cycle': return this.sequence(async () => {
        if (this.powered === 'on') {
          await this.powerOff();
          await this.wait(this.timing.cycleOffMs);
        }
        await this.powerOn();
      });
      case 'reset':
        if (this.powered === 'on') this.startBoot();
        return;
      case 'soft':
        this.acpiPowerButton();
        return;
      case 'diag':
        this.nmi();
        return;
    }
  }

  writeSerial(data: Buffer): void {
    if (this.closed) return;
    switch (this.guest) {
      case 'shell':
        this.shellInput(data);
        return;
      case 'firmware':
      case 'kernel':
        // Type-ahead: the UART keeps what arrives until the shell reads it.
        if (this.typeAheadBytes + data.length > TYPE_AHEAD_LIMIT) return;
        this.typeAhead.push(Buffer.from(data));
        this.typeAheadBytes += data.length;
        return;
      default:
        return; // off, setup, shutting down: nobody reads the console
    }
  }

  sendBreak(): void {
    // No SysRq handler in the simulated guest: a break changes nothing.
  }

  on<E extends keyof MachineEvents>(event: E, listener: MachineEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelGuest();
    for (const [timer, reject] of this.powerTimers) {
      clearTimeout(timer);
      reject(new MachineError('the simulated machine was closed', 'failed'));
    }
    this.powerTimers.clear();
    this.powered = 'off';
    this.guest = 'off';
  }

  // --- power sequence ---

  private async sequence(steps: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await steps();
    } finally {
      this.busy = false;
    }
  }

  private async powerOn(): Promise<void> {
    if (this.powered === 'on') return;
    await this.wait(this.timing.powerMs);
    this.setPower('on', 'command');
    this.startBoot();
  }

  private async powerOff(): Promise<void> {
    if (this.powered === 'off') return;
    // The guest stops making progress at once; the rails drop after powerMs.
    this.cancelGuest();
    this.guest = 'off';
    await this.wait(this.timing.powerMs);
    this.setPower('off', 'command');
  }

  private setPower(state: PowerState, cause: PowerChangeCause): void {
    this.powered = state;
    if (state === 'off') this.stopGuest();
    this.events.emit('power', state, cause);
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.powerTimers.delete(timer);
        resolve();
      }, ms);
      this.powerTimers.set(timer, reject);
    });
  }

  // --- guest ---

  private startBoot(): void {
    this.stopGuest();
    const selection = this.boot.takeNextBoot();
    const device = selection.device === 'default' ? this.defaultBootDevice : selection.device;
    const efi = selection.efi ?? this.firmware === 'uefi';
    this.guest = 'firmware';
    this.print(`${CRLF}bmcfleet sim firmware (${efi ? (selection.secureBoot ? 'UEFI, Secure Boot' : 'UEFI') : 'legacy BIOS'})${CRLF}`);
    if (device === 'bios') {
      this.guest = 'setup';
      this.print(`Entering firmware setup...${CRLF}`);
      return;
    }
    const drive = MEDIA_DRIVE[device];
    const medium = drive === undefined ? undefined : this.inserted.get(drive);
    this.print(`Booting from ${BOOT_LABEL[device]}${medium ? ` (virtual media ${medium.url})` : ''}...${CRLF}`);
    this.guestTimer(this.timing.firmwareMs, () => {
      this.guest = 'kernel';
      this.print(`[    0.000000] Linux version ${KERNEL_RELEASE} (bmcfleet) #1 SMP PREEMPT_DYNAMIC${CRLF}`
        + `[    0.000000] Command line: console=ttyS0,115200 (booted from ${BOOT_LABEL[device]}, ${efi ? 'EFI' : 'BIOS'})${CRLF}`);
      this.guestTimer(this.timing.kernelMs, () => this.startShell());
    });
  }

  private startShell(): void {
    this.guest = 'shell';
    this.print(`${CRLF}${this.hostname} login: root (automatic login)${CRLF}${CRLF}${this.prompt()}`);
    const pending = Buffer.concat(this.typeAhead);
    this.typeAhead = [];
    this.typeAheadBytes = 0;
    if (pending.length > 0) this.shellInput(pending);
  }

  private acpiPowerButton(): void {
    if (this.powered === 'off' || this.guest !== 'shell') return;
    this.print(`${CRLF}Power button pressed.${CRLF}${this.beginShutdown()}`);
  }

  private nmi(): void {
    if (this.guest !== 'kernel' && this.guest !== 'shell' && this.guest !== 'shutting-down') return;
    this.print(`${CRLF}Uhhuh. NMI received for unknown reason 3d on CPU 0.${CRLF}Dazed and confused, but trying to continue${CRLF}`);
  }

  /** The guest starts shutting down; returns what it prints first. */
  private beginShutdown(): string {
    this.guest = 'shutting-down';
    this.guestTimer(this.timing.shutdownMs, () => {
      this.print(`reboot: Power down${CRLF}`);
      this.setPower('off', 'guest');
    });
    return `The system is going down for poweroff NOW!${CRLF}`;
  }

  /** Forgets the running guest: its timers, its input. */
  private stopGuest(): void {
    this.cancelGuest();
    this.guest = 'off';
    this.line = '';
    this.lastWasCr = false;
    this.typeAhead = [];
    this.typeAheadBytes = 0;
  }

  private cancelGuest(): void {
    for (const timer of this.guestTimers) clearTimeout(timer);
    this.guestTimers.clear();
  }

  private guestTimer(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.guestTimers.delete(timer);
      run();
    }, ms);
    this.guestTimers.add(timer);
  }

  // --- shell ---

  private prompt(): string {
    return `root@${this.hostname}:~# `;
  }

  private shellInput(data: Buffer): void {
    let out = '';
    for (const byte of data) {
      if (this.guest !== 'shell') break; // e.g. `poweroff` earlier in the same chunk
      const wasCr = this.lastWasCr;
      this.lastWasCr = byte === CR;
      if (byte === CR || (byte === LF && !wasCr)) {
        const command = this.line;
        this.line = '';
        out += CRLF + this.run(command);
      } else if (byte === LF) {
        // the LF of a CRLF pair
      } else if (byte === BACKSPACE || byte === DELETE) {
        if (this.line.length > 0) {
          this.line = this.line.slice(0, -1);
          out += '\b \b';
        }
      } else if (byte === CTRL_C) {
        this.line = '';
        out += `^C${CRLF}${this.prompt()}`;
      } else if (byte >= PRINTABLE_FIRST && byte <= PRINTABLE_LAST && this.line.length < LINE_LIMIT) {
        const ch = String.fromCharCode(byte);
        this.line += ch;
        out += ch;
      }
    }
    if (out) this.print(out);
  }

  /** Runs one command line; returns its output followed by the next prompt (if any). */
  private run(commandLine: string): string {
    const words = commandLine.trim().split(/\s+/).filter((w) => w.length > 0);
    const [command, ...args] = words;
    if (command === undefined) return this.prompt();
    switch (command) {
      case 'echo':
        return args.join(' ') + CRLF + this.prompt();
      case 'uname':
        return this.uname(args[0]) + CRLF + this.prompt();
      case 'hostname':
        return this.hostname + CRLF + this.prompt();
      case 'poweroff':
        return this.beginShutdown();
      default:
        return `sh: ${command}: not found${CRLF}${this.prompt()}`;
    }
  }

  private uname(flag: string | undefined): string {
    switch (flag) {
      case '-a': return `Linux ${this.hostname} ${KERNEL_RELEASE} #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux`;
      case '-r': return KERNEL_RELEASE;
      case '-n': return this.hostname;
      default: return 'Linux';
    }
  }

  private print(text: string): void {
    this.events.emit('serial', Buffer.from(text, 'latin1'));
  }
}
