/**
 * MACHINE=qemu: the node's server is a QEMU virtual machine that the agent starts, supervises and
 * stops itself (design.md section 1, style habits 19–21).
 *
 * Power mapping:
 * - on: create the disk if missing, start QEMU paused (-S), connect QMP, give VNC its password
 *   (VNC_PASSWORD, over QMP), wait for QEMU to connect the serial port, `cont`; then 'power' ('on', 'command').
 * - off: SIGKILL to QEMU's process group, wait for the exit; then ('off', 'command').
 * - cycle: off, then on. soft: QMP system_powerdown (ACPI; the guest decides, and its power-off
 *   becomes ('off', 'guest')). diag: QMP inject-nmi. reset: see below.
 * - A QEMU that ends by itself, or whose QMP connection breaks, is ('off', 'failure').
 *
 * Boots and resets. QEMU runs with -action reboot=shutdown,shutdown=pause: every reset and every
 * power-off pauses the VM and tells the agent (QMP SHUTDOWN event) instead of acting, so that:
 * - each boot the agent starts asks the BootSource for the override (IPMI boot flags) and applies it:
 *   the boot order is changed in the running QEMU (qom-set bootindex), then the agent resets the VM
 *   itself; only a boot that needs another command line (other firmware, boot menu) restarts QEMU,
 *   which SOL does not notice because the serial endpoint belongs to the agent;
 * - a reboot by the guest is such a boot too (after `onGuestReset`, where the BMC applies the
 *   "boot flag valid bit clearing" rules of a soft reset), so a "next boot only" override does not
 *   repeat forever — except a reset within `firmwareResetGraceMs` of the boot's start, which is the
 *   firmware's own (SeaBIOS turns every reset into a second, hard one ~40 ms later; OVMF resets once
 *   when its memory map changes) and keeps the boot as it is;
 * - a guest power-off pauses QEMU, and the agent ends it.
 *
 * The power state is read live: no process → off; otherwise QMP query-status (a VM paused after the
 * guest's power-off is off). Nothing is kept in a state file.
 *
 * VM_NETWORKS: `prepareNetworks` gives the NICs present at each QEMU start (each on its own PCIe root
 * port, see qemu-args); `watchNetworks` then reports interfaces that appear while QEMU runs, and the
 * machine hot-plugs their NICs into their ports (QMP netdev_add + device_add, in the queue with the
 * power actions). A hot-plugged NIC takes its place in the boot order at the next reset.
 *
 * Bad VM configuration does not stop the BMC: the machine exists, says 'off', and refuses power-on
 * with MachineError 'failed' naming every problem (Chassis Control then answers 0xFF).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Listeners } from './events';
import {
  type BootSelection, type BootSource, MachineError, type MachineControl, type MachineEvents,
  type PowerAction, type PowerChangeCause, type PowerState,
} from './machine-control';
import { bootIndexes, buildQemuArgs, launchKey, nicPortId, QEMU_IDS, type QemuNic, resolveBoot, type ResolvedBoot } from './qemu-args';
import type { QemuConfig } from './qemu-config';
import { SupervisedProcess } from '../exec/child-process';
import { checkReadableFile, createDiskImage, detectDiskFormat, kvmUsable, prepareVarsFile } from './qemu-process';
import { QmpClient, QmpError, QmpErrorCode, type QmpEvent } from './qmp-client';
import { SerialEndpoint } from './serial-endpoint';
import type { MediaDriveId, MediaDrives, RemoteMedium } from './media-drives';
import { QemuMedia } from './qemu-media';
import type { Logger } from '../util/logger';
import { silentLogger } from '../util/logger';

export interface QemuTiming {
  /** From spawning QEMU until its QMP socket answers. */
  readonly startTimeoutMs: number;
  /** How long QEMU gets to connect the serial port before the guest starts anyway. */
  readonly serialConnectTimeoutMs: number;
  /** From SIGKILL until the process has exited. */
  readonly stopTimeoutMs: number;
  /** Time limit of a QMP command. */
  readonly qmpTimeoutMs: number;
  /** Time limit of query-status in powerState() (IPMI clients wait about a second). */
  readonly statusTimeoutMs: number;
  /** A guest reset this soon after a boot started is the firmware's own (see above). */
  readonly firmwareResetGraceMs: number;
  /** Pause between attempts to connect to QEMU's QMP socket while it starts. */
  readonly qmpRetryMs: number;
  /** Time limit of qemu-img create. */
  readonly diskCreateTimeoutMs: number;
}

export const DEFAULT_QEMU_TIMING: QemuTiming = {
  startTimeoutMs: 15_000,
  serialConnectTimeoutMs: 2_000,
  stopTimeoutMs: 5_000,
  qmpTimeoutMs: 5_000,
  statusTimeoutMs: 1_000,
  firmwareResetGraceMs: 10_000,
  qmpRetryMs: 20,
  diskCreateTimeoutMs: 60_000,
};

export interface QemuMachineOptions {
  readonly boot: BootSource;
  readonly config: QemuConfig;
  /** parseQemuConfig's problems: when any, power-on is refused with them. */
  readonly configProblems?: readonly string[];
  readonly log?: Logger;
  readonly qemuBinary?: string;
  readonly qemuImgBinary?: string;
  readonly ovmfCode?: string;
  /** Template of the variable store, copied once per node. */
  readonly ovmfVarsTemplate?: string;
  /** The node's variable store (default: OVMF_VARS.fd beside the disk). */
  readonly ovmfVars?: string;
  /** Secure Boot firmware code, its variable store template (Microsoft keys) and the node's copy (default: OVMF_VARS.secboot.fd beside the disk). */
  readonly ovmfSecureCode?: string;
  readonly ovmfSecureVarsTemplate?: string;
  readonly ovmfSecureVars?: string;
  /** Where the QMP and serial sockets live (default: a new directory under the system temp dir). */
  readonly runDir?: string;
  /** Guest name, SMBIOS system UUID and serial number (see QemuLaunch). */
  readonly name?: string;
  readonly uuid?: string;
  readonly serialNumber?: string;
  readonly diskInterface?: 'virtio' | 'ide';
  /** Whether /dev/kvm is usable (ENABLE_KVM=auto and =true); default: kvmUsable(). */
  readonly kvmAvailable?: () => boolean;
  /** Called before each QEMU start: the tap-backed NICs for VM_NETWORKS (default: none); `signal` aborts at close(). */
  readonly prepareNetworks?: (signal: AbortSignal) => Promise<readonly QemuNic[]>;
  /**
   * Called once a QEMU runs with the NICs `attached`: watches for the other VM_NETWORKS interfaces
   * and calls `hotAdd` with the NIC of each one that appears. Returns the function that stops the
   * watching; it is called when this QEMU stops.
   */
  readonly watchNetworks?: (attached: readonly QemuNic[], hotAdd: (nic: QemuNic) => Promise<void>) => () => void;
  /** Called when the guest reboots itself, before the boot flags are asked for the next boot. */
  readonly onGuestReset?: () => void;
  readonly clock?: () => number;
  readonly timing?: Partial<QemuTiming>;
}

export const DEFAULT_OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const DEFAULT_OVMF_VARS_TEMPLATE = '/usr/share/OVMF/OVMF_VARS_4M.fd';
export const DEFAULT_OVMF_SECURE_CODE = '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd';
export const DEFAULT_OVMF_SECURE_VARS_TEMPLATE = '/usr/share/OVMF/OVMF_VARS_4M.ms.fd';
const RESET_EVENT_TIMEOUT_MS = 5_000;
const EXIT_REPORT_WAIT_MS = 500;
const RESET_ATTEMPTS = 3;

/** One running QEMU process and what it was started with. */
interface Instance {
  readonly process: SupervisedProcess;
  readonly qmp: QmpClient;
  readonly key: string;
  /** Grows when NICs are hot-plugged. */
  nics: readonly QemuNic[];
  bootIndexes: ReadonlyMap<string, number>;
  selection: BootSelection;
  bootStartedAt: number;
  /** The agent is stopping it: its exit is expected. */
  stopping: boolean;
  /** Reason of the last SHUTDOWN event (the VM is paused since). */
  lastShutdown: string | undefined;
  resetting: boolean;
  /** A reset request of QEMU's is waiting in the queue. */
  resetQueued: boolean;
  readonly unsubscribe: Array<() => void>;
  /** Virtual media attached to this QEMU. */
  readonly media: QemuMedia;
}

const isResetReason = (reason: string | undefined): boolean => reason !== undefined && reason.endsWith('-reset');

export class QemuMachine implements MachineControl {
  readonly kind = 'qemu';

  private readonly events = new Listeners<MachineEvents>();
  private readonly config: QemuConfig;
  private readonly problems: readonly string[];
  private readonly log: Logger;
  private readonly timing: QemuTiming;
  private readonly clock: () => number;
  private instance: Instance | undefined;
  /** QEMU being started, so that close() can stop it. */
  private starting: SupervisedProcess | undefined;
  /** QEMU is being replaced for a boot: the power stays on. */
  private restarting = false;
  private busy = false;
  private closed = false;
  /** Aborts a power-on that waits for VM_NETWORKS interfaces when the machine closes. */
  private readonly closing = new AbortController();
  private queue: Promise<unknown> = Promise.resolve();
  private serial: SerialEndpoint | undefined;
  private runDir: string | undefined;
  private ownsRunDir = false;
  private screendumps = 0;
  /** Virtual media the machine holds: attached to every QEMU it starts. */
  private readonly wantedMedia = new Map<MediaDriveId, RemoteMedium>();

  /** The drives of virtual media (see qemu-media.ts): kept across power cycles and QEMU restarts. */
  readonly media: MediaDrives = {
    setMedium: (drive, medium) => this.setMedium(drive, medium),
    media: () => new Map(this.wantedMedia),
  };

  constructor(private readonly options: QemuMachineOptions) {
    this.config = options.config;
    this.problems = options.configProblems ?? [];
    this.log = options.log ?? silentLogger;
    this.timing = { ...DEFAULT_QEMU_TIMING, ...options.timing };
    this.clock = options.clock ?? Date.now;
    if (this.problems.length > 0) {
      this.log.error('VM configuration is invalid: the machine will refuse to power on until it is fixed', { problems: this.problems });
    }
  }

  async powerState(): Promise<PowerState> {
    if (this.restarting) return 'on';
    const inst = this.instance;
    if (!inst || inst.stopping || !inst.process.alive) return 'off';
    if (inst.resetting) return 'on';
    try {
      const { status } = await inst.qmp.execute<{ status: string }>('query-status', undefined, { timeoutMs: this.timing.statusTimeoutMs });
      // Paused by a power-off (not by a reset the agent is about to carry out): the power is off.
      return status === 'shutdown' && !isResetReason(inst.lastShutdown) ? 'off' : 'on';
    } catch (err) {
      this.log.debug('query-status failed; the process state decides', { error: String(err) });
      return inst.process.alive ? 'on' : 'off';
    }
  }

  async power(action: PowerAction): Promise<void> {
    if (this.closed) throw new MachineError('the QEMU machine is closed', 'failed');
    if (this.busy) throw new MachineError('a power action is still in progress', 'busy');
    this.busy = true;
    try {
      await this.exclusive(() => this.carryOut(action));
    } catch (err) {
      this.log.error('power action failed', { action, error: (err as Error).message });
      throw err instanceof MachineError ? err : new MachineError((err as Error).message, 'failed');
    } finally {
      this.busy = false;
    }
  }

  writeSerial(data: Buffer): void {
    this.serial?.write(data);
  }

  sendBreak(): void {
    const inst = this.instance;
    if (!inst) return;
    inst.qmp.execute('chardev-send-break', { id: QEMU_IDS.serial }, { timeoutMs: this.timing.qmpTimeoutMs })
      .catch((err: unknown) => this.log.warn('serial break failed', { error: String(err) }));
  }

  on<E extends keyof MachineEvents>(event: E, listener: MachineEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  /**
   * The VM's screen as QEMU's QMP `screendump` writes it (a binary PPM, into the run directory and
   * removed once read); undefined when no QEMU runs. Not queued behind power actions.
   */
  async screendump(): Promise<Buffer | undefined> {
    const inst = this.instance;
    if (!inst || inst.stopping || !inst.process.alive) return undefined;
    const file = join(this.ensureRunDir(), `screen-${++this.screendumps}.ppm`);
    try {
      await inst.qmp.execute('screendump', { filename: file }, { timeoutMs: this.timing.qmpTimeoutMs });
      return readFileSync(file);
    } finally {
      rmSync(file, { force: true });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    // A start under way fails as soon as its process is gone.
    await this.starting?.kill(this.timing.stopTimeoutMs).catch(() => undefined);
    await this.queue.catch(() => undefined);
    const inst = this.instance;
    if (inst) await this.stop(inst).catch((err: unknown) => this.log.error('stopping QEMU failed', { error: String(err) }));
    await this.serial?.close();
    this.serial = undefined;
    if (this.ownsRunDir && this.runDir) rmSync(this.runDir, { recursive: true, force: true });
  }

  // --- power actions (one at a time, through the queue) ---

  private async carryOut(action: PowerAction): Promise<void> {
    const inst = this.instance;
    switch (action) {
      case 'on':
        if (inst) return;
        await this.start(this.options.boot.takeNextBoot());
        this.emitPower('on', 'command');
        return;
      case 'off':
        if (!inst) return;
        await this.stop(inst);
        this.emitPower('off', 'command');
        return;
      case 'cycle':
        if (inst) {
          await this.stop(inst);
          this.emitPower('off', 'command');
        }
        await this.start(this.options.boot.takeNextBoot());
        this.emitPower('on', 'command');
        return;
      case 'reset':
        if (inst) await this.reboot(inst, this.options.boot.takeNextBoot());
        return;
      case 'soft':
        if (inst) await this.qmp(inst, 'system_powerdown');
        return;
      case 'diag':
        if (inst) await this.qmp(inst, 'inject-nmi');
        return;
    }
  }

  /** Starts QEMU for a boot with `selection` and lets the guest run. */
  private async start(selection: BootSelection): Promise<Instance> {
    if (this.problems.length > 0) {
      throw new MachineError(`cannot power on: invalid VM configuration: ${this.problems.join('; ')}`, 'failed');
    }
    const config = this.config;
    const accel = this.accel();
    const serial = await this.ensureSerial();
    const runDir = this.ensureRunDir();
    try {
      if (await createDiskImage(this.options.qemuImgBinary ?? 'qemu-img', config.disk, config.diskSizeBytes, this.timing.diskCreateTimeoutMs)) {
        this.log.info('created the VM disk', { disk: config.disk, sizeBytes: config.diskSizeBytes });
      }
    } catch (err) {
      throw new MachineError(`cannot create the VM disk ${config.disk}: ${(err as Error).message}`, 'failed');
    }
    if (this.closed) throw new MachineError('the QEMU machine was closed during power-on', 'failed');
    const boot = resolveBoot(selection, config);
    const nics = this.options.prepareNetworks ? await this.options.prepareNetworks(this.closing.signal) : [];
    if (this.closed) throw new MachineError('the QEMU machine was closed during power-on', 'failed');
    if (boot.first === 'network' && nics.length === 0) {
      this.log.warn('network boot selected, but the VM has no network interface (VM_NETWORKS is empty): booting the next device');
    }
    if (boot.first === 'usb' && !this.wantedMedia.has('usb')) {
      this.log.warn('USB boot selected, but no virtual media is in the USB stick slot: booting the next device');
    }
    const ovmfVars = this.options.ovmfVars ?? join(dirname(config.disk), 'OVMF_VARS.fd');
    const ovmfSecureVars = this.options.ovmfSecureVars ?? join(dirname(config.disk), 'OVMF_VARS.secboot.fd');
    if (boot.efi && !boot.secure && prepareVarsFile(this.options.ovmfVarsTemplate ?? DEFAULT_OVMF_VARS_TEMPLATE, ovmfVars)) {
      this.log.info('created the UEFI variable store', { path: ovmfVars });
    }
    if (boot.efi && boot.secure && prepareVarsFile(this.options.ovmfSecureVarsTemplate ?? DEFAULT_OVMF_SECURE_VARS_TEMPLATE, ovmfSecureVars)) {
      this.log.info('created the Secure Boot variable store (Microsoft keys enrolled)', { path: ovmfSecureVars });
    }
    // Checked before QEMU starts, so the Chassis Control answer itself carries the failure.
    if (config.cdrom !== undefined) checkReadableFile(config.cdrom, 'the CD-ROM image (VM_CDROM)');
    const qmpSocket = join(runDir, 'qmp.sock');
    rmSync(qmpSocket, { force: true });
    const args = buildQemuArgs({
      config, boot, accel, nics,
      paths: {
        qmpSocket, serialSocket: serial.path, ovmfCode: this.options.ovmfCode ?? DEFAULT_OVMF_CODE, ovmfVars,
        ovmfSecureCode: this.options.ovmfSecureCode ?? DEFAULT_OVMF_SECURE_CODE, ovmfSecureVars,
      },
      diskFormat: detectDiskFormat(config.disk),
      ...(this.options.diskInterface === undefined ? {} : { diskInterface: this.options.diskInterface }),
      ...(this.options.name === undefined ? {} : { name: this.options.name }),
      ...(this.options.uuid === undefined ? {} : { uuid: this.options.uuid }),
      ...(this.options.serialNumber === undefined ? {} : { serialNumber: this.options.serialNumber }),
    });
    const connectionsBefore = serial.connectionCount;
    const binary = this.options.qemuBinary ?? 'qemu-system-x86_64';
    this.log.info('starting QEMU', { firmware: boot.efi ? 'uefi' : 'bios', secureBoot: boot.secure === true, first: boot.first, setup: boot.setup, accel });
    this.log.debug('QEMU command line', { binary, args });
    const proc = await SupervisedProcess.start(binary, args, {}, { log: this.log, logName: 'qemu' });
    this.starting = proc;
    let qmp: QmpClient | undefined;
    try {
      qmp = await this.connectQmp(qmpSocket, proc);
      const inst: Instance = {
        process: proc, qmp, key: launchKey(boot, config), nics,
        bootIndexes: bootIndexes(boot, config, nics), selection,
        bootStartedAt: this.clock(), stopping: false, lastShutdown: undefined, resetting: false, resetQueued: false, unsubscribe: [],
        media: new QemuMedia((command, args) => this.qmp(inst, command, args), config.cdrom, (id, ms) => this.deviceDeleted(inst, id, ms), (id) => inst.bootIndexes.get(id)),
      };
      this.watch(inst);
      await this.applyVncPassword(inst);
      // Virtual media before the guest runs, so the firmware sees them (a Cd boot override boots them).
      for (const [drive, medium] of this.wantedMedia) {
        try {
          await inst.media.set(drive, medium);
        } catch (err) {
          throw new MachineError(`virtual media (${drive}) ${medium.url} could not be attached: ${(err as Error).message}`, 'failed');
        }
      }
      // The firmware reads the boot order QEMU builds at a reset: one for the stick plugged just now.
      if (inst.media.urlIn('usb') !== undefined) await this.resetBeforeFirstBoot(inst);
      if (!await serial.waitForConnection(connectionsBefore, this.timing.serialConnectTimeoutMs)) {
        this.log.warn('QEMU has not connected the serial port: the console may miss the first lines');
      }
      if (this.closed) throw new MachineError('the QEMU machine was closed during power-on', 'failed');
      await this.qmp(inst, 'cont');
      inst.bootStartedAt = this.clock();
      this.instance = inst;
      if (this.options.watchNetworks) inst.unsubscribe.push(this.options.watchNetworks(nics, (nic) => this.hotAddNic(inst, nic)));
      this.log.info('QEMU started', { pid: proc.pid });
      return inst;
    } catch (err) {
      await proc.kill(this.timing.stopTimeoutMs).catch(() => undefined);
      await qmp?.close();
      const stderr = proc.stderrTail();
      const detail = (err as Error).message;
      throw new MachineError(`QEMU did not start: ${detail}${stderr && !detail.includes(stderr) ? ` (QEMU: ${stderr})` : ''}`, 'failed');
    } finally {
      this.starting = undefined;
    }
  }

  /**
   * VNC_PASSWORD reaches each new QEMU over QMP (set_password), never on its command line. Until
   * then QEMU's VNC (password=on, no password yet) lets nobody in, and the guest has not started.
   */
  private async applyVncPassword(inst: Instance): Promise<void> {
    const { vncPort, vncPassword } = this.config;
    if (vncPort === undefined || vncPassword === undefined) return;
    try {
      await inst.qmp.execute('set_password', { protocol: 'vnc', password: vncPassword }, { timeoutMs: this.timing.qmpTimeoutMs });
    } catch (err) {
      // QMP's error text never carries the password.
      throw new MachineError(`QMP set_password (VNC) failed: ${(err as Error).message}`, 'failed');
    }
  }

  /** QEMU creates its QMP socket while it starts: connect as soon as it answers. */
  private async connectQmp(path: string, proc: SupervisedProcess): Promise<QmpClient> {
    const deadline = this.clock() + this.timing.startTimeoutMs;
    for (;;) {
      if (!proc.alive) {
        const exit = await proc.exited;
        const how = exit.error ? `cannot run it: ${exit.error}` : `it exited (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`})`;
        throw new MachineError(`${how}${proc.stderrTail() ? `: ${proc.stderrTail()}` : ''}`, 'failed');
      }
      if (this.closed) throw new MachineError('the QEMU machine was closed during power-on', 'failed');
      try {
        return await QmpClient.connect(path, { log: this.log, timeoutMs: this.timing.qmpTimeoutMs, handshakeTimeoutMs: this.timing.qmpTimeoutMs });
      } catch (err) {
        if (!(err instanceof QmpError) || err.code !== QmpErrorCode.Connect) throw err;
      }
      if (this.clock() > deadline) throw new MachineError(`QMP did not answer within ${this.timing.startTimeoutMs} ms`, 'failed');
      await new Promise((resolve) => setTimeout(resolve, this.timing.qmpRetryMs));
    }
  }

  /** Stops QEMU hard and forgets it. */
  private async stop(inst: Instance): Promise<void> {
    inst.stopping = true;
    if (this.instance === inst) this.instance = undefined;
    for (const unsubscribe of inst.unsubscribe.splice(0)) unsubscribe();
    try {
      await inst.process.kill(this.timing.stopTimeoutMs);
    } catch (err) {
      throw new MachineError((err as Error).message, 'failed');
    } finally {
      await inst.qmp.close();
    }
  }

  /**
   * Boots again with `selection`: in the same QEMU when the command line allows it (new boot order,
   * then a reset done by the agent), else in a new QEMU (the power stays on).
   */
  private async reboot(inst: Instance, selection: BootSelection): Promise<void> {
    const boot = resolveBoot(selection, this.config);
    if (launchKey(boot, this.config) !== inst.key) {
      await this.restart(inst, selection);
      return;
    }
    inst.resetting = true;
    try {
      await this.resetInPlace(inst, boot, selection);
    } catch (err) {
      // A VM left paused half-way through a reset is of no use: end it, and say so.
      this.log.error('reset failed: stopping QEMU', { error: (err as Error).message });
      await this.stop(inst).catch(() => undefined);
      this.emitPower('off', 'failure');
      throw err;
    } finally {
      inst.resetting = false;
    }
  }

  private async resetInPlace(inst: Instance, boot: ResolvedBoot, selection: BootSelection): Promise<void> {
    await this.applyBootOrder(inst, boot);
    for (let attempt = 1; ; attempt++) {
      // QEMU turns every reset into a stop while reboot=shutdown; let this one through.
      await this.qmp(inst, 'set-action', { reboot: 'reset' });
      const reset = this.nextEvent(inst, 'RESET');
      reset.catch(() => undefined); // awaited below, unless system_reset itself fails
      await this.qmp(inst, 'system_reset');
      // The reset happens after the reply; cont before it would be refused from the "shutdown" state.
      await reset;
      await this.qmp(inst, 'set-action', { reboot: 'shutdown' });
      try {
        // From the paused "shutdown" state the reset leads to "prelaunch"; when running, cont does nothing.
        await inst.qmp.execute('cont', undefined, { timeoutMs: this.timing.qmpTimeoutMs });
        break;
      } catch (err) {
        // The guest asked for a reset again meanwhile and is paused for it: reset once more.
        const again = err instanceof QmpError && err.code === QmpErrorCode.Execute && /reset/i.test(err.desc ?? '');
        if (!again || attempt >= RESET_ATTEMPTS) throw new MachineError(`QMP cont failed: ${(err as Error).message}`, 'failed');
      }
    }
    inst.lastShutdown = undefined;
    inst.selection = selection;
    inst.bootStartedAt = this.clock();
  }

  private async restart(inst: Instance, selection: BootSelection): Promise<void> {
    this.log.info('the next boot needs another QEMU command line: restarting QEMU');
    this.restarting = true;
    try {
      await this.stop(inst);
      await this.start(selection);
      this.restarting = false;
    } catch (err) {
      this.restarting = false;
      this.emitPower('off', 'failure');
      throw err;
    }
  }

  /** Plugs `nic` into its root port of the running `inst` (the tap must exist). */
  private hotAddNic(inst: Instance, nic: QemuNic): Promise<void> {
    return this.exclusive(async () => {
      if (inst.stopping || this.instance !== inst) throw new MachineError('the VM no longer runs', 'failed');
      if (inst.nics.some((n) => n.id === nic.id)) return;
      const netdev = `netdev-${nic.id}`;
      await this.qmp(inst, 'netdev_add', { type: 'tap', id: netdev, ifname: nic.tapName, script: 'no', downscript: 'no' });
      try {
        await this.qmp(inst, 'device_add', { driver: 'virtio-net-pci', id: nic.id, netdev, mac: nic.mac, bus: nicPortId(nic.id) });
      } catch (err) {
        await this.qmp(inst, 'netdev_del', { id: netdev }).catch(() => undefined);
        throw err;
      }
      // VM_NETWORKS order (net0, net1, ..., net10): the boot order among NICs, from the next reset on.
      inst.nics = [...inst.nics, nic].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
      this.log.debug('NIC hot-plugged', { nic: nic.id, tap: nic.tapName, mac: nic.mac });
    });
  }

  private async applyBootOrder(inst: Instance, boot: ResolvedBoot): Promise<void> {
    const next = bootIndexes(boot, this.config, inst.nics);
    if (sameMap(next, inst.bootIndexes)) return;
    // The USB stick is a device only while it holds a medium (it is plugged with its index then).
    const present = (id: string): boolean => id !== QEMU_IDS.usbStick || inst.media.urlIn('usb') !== undefined;
    // QEMU refuses a bootindex that another device still holds: clear them all first.
    for (const id of inst.bootIndexes.keys()) if (present(id)) await this.setBootIndex(inst, id, -1);
    inst.bootIndexes = next;
    for (const [id, index] of next) if (present(id)) await this.setBootIndex(inst, id, index);
  }

  /**
   * A reset of the VM that has not run yet (prelaunch), so that the firmware's boot order (fw_cfg
   * `bootorder`, rebuilt by QEMU at each reset) includes devices plugged over QMP since QEMU started.
   */
  private async resetBeforeFirstBoot(inst: Instance): Promise<void> {
    await this.qmp(inst, 'set-action', { reboot: 'reset' });
    const reset = this.nextEvent(inst, 'RESET');
    reset.catch(() => undefined); // awaited below, unless system_reset itself fails
    await this.qmp(inst, 'system_reset');
    await reset;
    await this.qmp(inst, 'set-action', { reboot: 'shutdown' });
  }

  private setBootIndex(inst: Instance, id: string, index: number): Promise<unknown> {
    return this.qmp(inst, 'qom-set', { path: `/machine/peripheral/${id}`, property: 'bootindex', value: index });
  }

  // --- virtual media ---

  private setMedium(drive: MediaDriveId, medium: RemoteMedium | undefined): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) throw new MachineError('the QEMU machine is closed', 'failed');
      const inst = this.instance;
      if (inst && !inst.stopping) await inst.media.set(drive, medium);
      if (medium) this.wantedMedia.set(drive, medium);
      else this.wantedMedia.delete(drive);
      this.log.info(medium ? 'virtual media attached' : 'virtual media removed', { drive, url: medium?.url, running: inst !== undefined });
    });
  }

  /** Resolves when QEMU reports DEVICE_DELETED for device `id`; rejects after `ms`. */
  private deviceDeleted(inst: Instance, id: string, ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { off(); reject(new MachineError(`QEMU did not report the removal of ${id} within ${ms} ms`, 'failed')); }, ms);
      const off = inst.qmp.on('event', (event) => {
        if (event.event === 'DEVICE_DELETED' && event.data['device'] === id) { clearTimeout(timer); off(); resolve(); }
      });
    });
  }

  // --- what QEMU reports by itself ---

  private watch(inst: Instance): void {
    inst.unsubscribe.push(inst.qmp.on('event', (event) => this.onQmpEvent(inst, event)));
    inst.unsubscribe.push(inst.qmp.on('disconnect', (reason) => this.onLost(inst, reason.message)));
    void inst.process.exited.then(() => this.onLost(inst, 'QEMU exited'));
  }

  /** QEMU died or QMP broke without the agent asking: the machine is off, by failure. */
  private onLost(inst: Instance, reason: string): void {
    if (inst.stopping) return;
    this.enqueue(async () => {
      if (inst.stopping || this.instance !== inst) return;
      // QMP closes as QEMU dies: give the exit a moment to be known, for the log.
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([inst.process.exited, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), EXIT_REPORT_WAIT_MS); })]);
      clearTimeout(timer);
      if (exit) {
        this.log.error('QEMU exited by itself', { code: exit.code, signal: exit.signal, stderr: inst.process.stderrTail() });
      } else {
        this.log.error('lost the QMP connection to QEMU: stopping it', { reason });
      }
      await this.stop(inst);
      this.emitPower('off', 'failure');
    });
  }

  private onQmpEvent(inst: Instance, event: QmpEvent): void {
    if (event.event !== 'SHUTDOWN' || inst.stopping) return;
    const reason = typeof event.data['reason'] === 'string' ? event.data['reason'] : 'unknown';
    const guest = event.data['guest'] === true;
    // Recorded at once, so that powerState() tells a power-off from a reset while it is handled.
    inst.lastShutdown = reason;
    if (isResetReason(reason)) {
      // One reset per request: a guest that resets twice in a row (SeaBIOS writes the reset register,
      // then triple-faults until the VM stops) or during the agent's own reset gets one new boot.
      if (inst.resetQueued || inst.resetting) {
        this.log.debug('QEMU reset request merged with the one under way', { reason, guest });
        return;
      }
      this.log.debug('QEMU paused the VM for a reset', { reason, guest });
      inst.resetQueued = true;
      this.enqueue(async () => {
        try {
          if (inst.stopping || this.instance !== inst) return;
          await this.reboot(inst, this.nextBootAfterReset(inst, guest && reason === 'guest-reset'));
        } finally {
          inst.resetQueued = false;
        }
      });
      return;
    }
    this.enqueue(async () => {
      if (inst.stopping || this.instance !== inst) return;
      const cause: PowerChangeCause = reason === 'guest-shutdown' ? 'guest' : 'failure';
      if (cause === 'failure') this.log.warn('QEMU stopped the VM', { reason });
      await this.stop(inst);
      this.emitPower('off', cause);
    });
  }

  private nextBootAfterReset(inst: Instance, byGuest: boolean): BootSelection {
    if (!byGuest || this.clock() - inst.bootStartedAt < this.timing.firmwareResetGraceMs) return inst.selection;
    this.options.onGuestReset?.();
    return this.options.boot.takeNextBoot();
  }

  // --- helpers ---

  private async qmp(inst: Instance, command: string, args?: Record<string, unknown>): Promise<unknown> {
    try {
      return await inst.qmp.execute(command, args, { timeoutMs: this.timing.qmpTimeoutMs });
    } catch (err) {
      throw new MachineError(`QMP ${command} failed: ${(err as Error).message}`, 'failed');
    }
  }

  /** Resolves at QEMU's next `name` event; rejects after a while or when QMP closes. */
  private nextEvent(inst: Instance, name: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        offEvent();
        offDisconnect();
        if (err) reject(err); else resolve();
      };
      const timer = setTimeout(() => done(new MachineError(`no ${name} event from QEMU within ${RESET_EVENT_TIMEOUT_MS} ms`, 'failed')), RESET_EVENT_TIMEOUT_MS);
      const offEvent = inst.qmp.on('event', (event) => { if (event.event === name) done(); });
      const offDisconnect = inst.qmp.on('disconnect', (reason) => done(new MachineError(`QMP closed while waiting for ${name}: ${reason.message}`, 'failed')));
    });
  }

  private accel(): 'kvm' | 'tcg' {
    const available = (this.options.kvmAvailable ?? kvmUsable)();
    if (this.config.kvm === 'on' && !available) {
      throw new MachineError('ENABLE_KVM=true, but /dev/kvm is missing or not accessible', 'failed');
    }
    return this.config.kvm === 'off' || !available ? 'tcg' : 'kvm';
  }

  private async ensureSerial(): Promise<SerialEndpoint> {
    if (this.serial) return this.serial;
    const serial = await SerialEndpoint.listen(join(this.ensureRunDir(), 'serial.sock'), { log: this.log });
    serial.on('data', (data) => this.events.emit('serial', data));
    this.serial = serial;
    return serial;
  }

  private ensureRunDir(): string {
    if (this.runDir) return this.runDir;
    if (this.options.runDir) {
      mkdirSync(this.options.runDir, { recursive: true });
      this.runDir = this.options.runDir;
    } else {
      this.runDir = mkdtempSync(join(tmpdir(), 'bmcfleet-qemu-'));
      this.ownsRunDir = true;
    }
    return this.runDir;
  }

  private emitPower(state: PowerState, cause: PowerChangeCause): void {
    try {
      this.events.emit('power', state, cause);
    } catch (err) {
      this.log.error('power listener failed', { error: String(err) });
    }
  }

  /** Runs `task` after everything queued before it (power actions and QEMU's own events). */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private enqueue(task: () => Promise<void>): void {
    this.exclusive(task).catch((err: unknown) => this.log.error('handling a QEMU event failed', { error: String(err) }));
  }
}

function sameMap(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
