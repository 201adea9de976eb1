/**
 * The QEMU side of the node-runtime bench: the agent's own QEMU command line (from its DEBUG log),
 * the same command line launched bare, and what each device on it is for. The functions above
 * runBareQemu are pure.
 */
import { performance } from 'node:perf_hooks';
import type { ProcessGroup } from './processes';

/** The test guest's marker once it has booted (node-image/test/guest/README.md). */
export const READY_MARKER = 'BMCFLEET-GUEST-READY';

export interface QemuCommandLine {
  readonly binary: string;
  readonly args: readonly string[];
}

/** The last "QEMU command line" entry of the agent's JSON log (DEBUG=true), or undefined. */
export function qemuCommandLineFromLog(log: string): QemuCommandLine | undefined {
  let found: QemuCommandLine | undefined;
  for (const line of log.split('\n')) {
    if (!line.includes('"QEMU command line"')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; binary?: unknown; args?: unknown };
      if (entry.msg === 'QEMU command line' && typeof entry.binary === 'string' && Array.isArray(entry.args) && entry.args.every((a) => typeof a === 'string')) {
        found = { binary: entry.binary, args: entry.args as string[] };
      }
    } catch {
      // not a log entry
    }
  }
  return found;
}

/** The value of a QEMU option's `key=` in a comma-separated option string (",," escapes a comma). */
export function qemuOptionValue(option: string, key: string): string | undefined {
  const parts = option.replace(/,,/g, '\u0000').split(',').map((p) => p.replace(/\u0000/g, ','));
  for (const p of parts) if (p.startsWith(`${key}=`)) return p.slice(key.length + 1);
  return undefined;
}

/**
 * The agent's command line as someone would launch it by hand: without -S (nobody sends `cont`),
 * the serial port on QEMU's stdout (`-serial stdio`) instead of the agent's socket, and the QMP
 * socket moved to `qmpSocket` so the agent's is left alone. Everything else stays as it is.
 */
export function bareQemuArgs(args: readonly string[], qmpSocket: string): string[] {
  const serialId = (() => {
    const i = args.indexOf('-serial');
    const v = i >= 0 ? args[i + 1] : undefined;
    return v?.startsWith('chardev:') ? v.slice('chardev:'.length) : undefined;
  })();
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    if (a === '-S') continue;
    if (a === '-chardev' && v !== undefined && serialId !== undefined && qemuOptionValue(v, 'id') === serialId) { i++; continue; }
    if (a === '-serial' && v !== undefined) { out.push('-serial', 'stdio'); i++; continue; }
    if (a === '-chardev' && v !== undefined && qemuOptionValue(v, 'path') !== undefined && qemuOptionValue(v, 'server') === 'on') {
      out.push('-chardev', v.replace(/path=(?:[^,]|,,)*/, `path=${qmpSocket.replace(/,/g, ',,')}`));
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

export interface DeviceRow {
  /** -device, -drive, -netdev, … */
  readonly option: string;
  readonly value: string;
  /** Why the node has it. */
  readonly why: string;
}

/** Options that put hardware or a backend into the VM. */
const DEVICE_OPTIONS = new Set(['-device', '-drive', '-netdev', '-chardev', '-serial', '-mon', '-vnc']);

function why(option: string, value: string): string {
  const first = value.split(',')[0]!;
  if (option === '-device') {
    if (first === 'VGA') return 'the display adapter: firmware and OS consoles on VNC (VNC_PORT); with VNC_PORT=none it stays so the guest sees the same hardware';
    if (first === 'virtio-blk-pci') return 'the VM disk (VM_DISK), virtio for speed; bootindex sets the boot order';
    if (first === 'ide-hd') return 'the VM disk on the built-in SATA controller (guests without virtio drivers)';
    if (first === 'ide-cd') return 'the CD-ROM drive on q35\'s built-in AHCI (SATA) controller, always present like a server\'s virtual media; VM_CDROM is its medium';
    if (first === 'qemu-xhci') return 'USB (xHCI) controller for the Redfish virtual media USB stick, plugged over QMP while the VM runs (q35\'s root bus takes no PCI hot-plug, so the controller is always there)';
    if (first === 'pcie-root-port') return 'one PCIe root port per VM_NETWORKS entry, at a fixed address: q35\'s root bus takes no hot-plug, so an interface that appears while the VM runs is hot-plugged here';
    if (first === 'virtio-net-pci') return 'one NIC per VM_NETWORKS interface (tap bridged at L2), MAC derived from node and interface; its iPXE ROM makes PXE possible';
    return 'unexpected: no decision in qemu-args.ts explains it';
  }
  if (option === '-drive') {
    if (value.startsWith('if=pflash') && value.includes('readonly=on')) return 'OVMF firmware code (UEFI boots only), read-only';
    if (value.startsWith('if=pflash')) return 'this node\'s UEFI variable store (NVRAM), kept beside the disk';
    if (value.includes('media=cdrom')) return 'backend of the CD-ROM drive (empty without VM_CDROM)';
    return 'backend of the VM disk (qcow2, discard=unmap so freed blocks shrink the image)';
  }
  if (option === '-netdev') return 'tap backend of a VM_NETWORKS NIC';
  if (option === '-chardev') return qemuOptionValue(value, 'server') === 'on' ? 'QMP socket: the agent controls QEMU (power, reset, boot order)' : 'serial port: a client of the agent\'s serial endpoint, which SOL carries';
  if (option === '-serial') return 'COM1 (ttyS0) of the guest, on that chardev';
  if (option === '-mon') return 'the QMP monitor on the QMP socket';
  if (option === '-vnc') return 'VNC server for the VGA console';
  return '';
}

/** Every device and backend on a QEMU command line, with the reason it is there. */
export function describeDevices(args: readonly string[]): DeviceRow[] {
  const rows: DeviceRow[] = [];
  for (let i = 0; i < args.length - 1; i++) {
    const a = args[i]!;
    if (DEVICE_OPTIONS.has(a)) { rows.push({ option: a, value: args[i + 1]!, why: why(a, args[i + 1]!) }); i++; }
  }
  return rows;
}

/** Devices that only one side of the comparison has (the agent's sockets vs -serial stdio). */
export function devicesDiffer(agent: readonly string[], bare: readonly string[]): string[] {
  const key = (r: DeviceRow): string => `${r.option} ${r.value.split(',')[0]}`;
  const a = describeDevices(agent).map(key);
  const b = describeDevices(bare).map(key);
  return [...a.filter((k) => !b.includes(k)).map((k) => `agent only: ${k}`), ...b.filter((k) => !a.includes(k)).map((k) => `bare only: ${k}`)];
}

// ------------------------------------------------------------------ timing one boot

export interface BootTiming {
  /** From the start (power-on request sent, or spawn) to the first character of guest output. */
  readonly firstByteMs?: number;
  /** … to the end of READY_MARKER. */
  readonly readyMs?: number;
  /** Agent only: Chassis Control answered. */
  readonly answeredMs?: number;
  /** Characters of output until the marker (or the end). */
  readonly bytes: number;
  readonly error?: string;
  /** Agent only, from its log's clock (ms resolution): where the time to the first byte went. */
  readonly phases?: PowerOnPhases;
}

export interface PowerOnPhases {
  /** Chassis Control sent → the agent logs "starting QEMU" (session, command, disk and firmware checks). */
  readonly toSpawnMs: number;
  /** "starting QEMU" → "QEMU started": spawn with -S, QMP up, serial connected, `cont` answered. */
  readonly spawnToRunMs: number;
  /** "QEMU started" → first SOL byte at the bench: firmware until its first output, serial, SOL. */
  readonly runToFirstByteMs: number;
}

/** Epoch ms of the first log entry with each message, in a stretch of the agent's JSON log. */
export function logTimes(log: string, messages: readonly string[]): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const e = JSON.parse(line) as { msg?: unknown; time?: unknown };
      if (typeof e.msg === 'string' && typeof e.time === 'string' && messages.includes(e.msg) && !found.has(e.msg)) {
        const t = Date.parse(e.time);
        if (Number.isFinite(t)) found.set(e.msg, t);
      }
    } catch {
      // not a log entry
    }
  }
  return found;
}

/** The phases of one power-on, or undefined when a log entry is missing. */
export function powerOnPhases(log: string, sentAtEpochMs: number, firstByteEpochMs: number): PowerOnPhases | undefined {
  const t = logTimes(log, ['starting QEMU', 'QEMU started']);
  const spawn = t.get('starting QEMU');
  const run = t.get('QEMU started');
  if (spawn === undefined || run === undefined) return undefined;
  return { toSpawnMs: spawn - sentAtEpochMs, spawnToRunMs: run - spawn, runToFirstByteMs: firstByteEpochMs - run };
}

/** Follows a stream of guest output: when the first character and the marker arrived. */
export class OutputWatcher {
  private text = '';
  firstAt: number | undefined;
  readyAt: number | undefined;
  private waiters: Array<() => void> = [];

  constructor(private readonly marker = READY_MARKER) {}

  get bytes(): number { return this.text.length; }
  get tail(): string { return this.text.slice(-400); }

  feed(data: Buffer, atMs: number): void {
    if (data.length === 0 || this.readyAt !== undefined) return;
    this.firstAt ??= atMs;
    this.text += data.toString('latin1');
    if (this.text.includes(this.marker)) {
      this.readyAt = atMs;
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Resolves true at the marker, false after timeoutMs (or when `abort` resolves first). */
  waitReady(timeoutMs: number, abort?: Promise<unknown>): Promise<boolean> {
    if (this.readyAt !== undefined) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (v: boolean): void => { clearTimeout(timer); resolve(v); };
      timer = setTimeout(() => done(this.readyAt !== undefined), timeoutMs);
      this.waiters.push(() => done(true));
      void abort?.then(() => done(this.readyAt !== undefined));
    });
  }

  /** Resolves at the first character, or after timeoutMs. */
  async waitFirst(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.firstAt === undefined && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.firstAt !== undefined;
  }
}

/**
 * Launches QEMU bare with `args`, times its stdout (the serial port) until the marker (or only the
 * first character with untilFirstByte), runs `whileRunning`, then stops it.
 */
export async function runBareQemu(
  group: ProcessGroup, binary: string, args: readonly string[],
  o: { timeoutMs: number; untilFirstByte?: boolean; whileRunning?: () => Promise<void> },
): Promise<BootTiming> {
  const watch = new OutputWatcher();
  let stderr = '';
  const started = performance.now();
  const child = group.spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => watch.feed(d, performance.now()));
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2_000); });
  const exited = new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.once('error', () => resolve()); });
  let error: string | undefined;
  try {
    if (o.untilFirstByte) {
      if (!await watch.waitFirst(o.timeoutMs)) error = 'no output';
    } else if (!await watch.waitReady(o.timeoutMs, exited)) {
      error = child.exitCode !== null || child.signalCode !== null ? `QEMU exited (${child.exitCode ?? child.signalCode})` : `no ${READY_MARKER} within ${o.timeoutMs} ms`;
    }
    if (!error && o.whileRunning) await o.whileRunning();
  } finally {
    await group.stop(child);
  }
  if (error && stderr.trim()) error += `: ${stderr.trim().split('\n').slice(-2).join(' ')}`;
  return {
    ...(watch.firstAt !== undefined ? { firstByteMs: watch.firstAt - started } : {}),
    ...(watch.readyAt !== undefined ? { readyMs: watch.readyAt - started } : {}),
    bytes: watch.bytes,
    ...(error ? { error } : {}),
  };
}
