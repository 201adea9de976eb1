/**
 * The host's serial console for any number of viewers (OpenBMC obmc-console style): every byte the
 * machine writes to its serial port goes into the history and to every viewer; a new viewer first
 * gets the history. Bytes typed by a viewer whose role allows it go to the machine's serial port;
 * a viewer without that right is closed with CLOSE.inputRefused and a reason, never ignored.
 * IPMI SOL listens to the same machine 'serial' event, so it works beside the viewers. The
 * machine's serial stream belongs to the BMC, so viewers stay connected across power cycles and
 * QEMU restarts. No sockets here: a viewer is anything that can send and close.
 */
import type { MachineControl } from '../machine/machine-control';
import type { Principal } from '../redfish/router';
import { canType } from './console-auth';
import { SerialHistory } from './serial-history';

export interface ConsoleViewer {
  send(data: Buffer): void;
  close(code: number, reason: string): void;
  /** Bytes queued toward the viewer and not yet sent. */
  readonly bufferedAmount: number;
}

/** WebSocket close codes of the consoles (RFC 6455 section 7.4: 4000-4999 for applications). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  internalError: 1011,
  tryAgainLater: 1013,
  /** A ReadOnly user typed on the serial console. */
  inputRefused: 4403,
  /** The VM's display went away (power off, QEMU restarted). */
  displayGone: 4503,
} as const;

/** A viewer this far behind is closed: it does not read, and the agent must not buffer without bound. */
export const MAX_VIEWER_BACKLOG_BYTES = 4 * 1024 * 1024;

interface Attached {
  readonly viewer: ConsoleViewer;
  readonly principal: Principal;
}

export class SerialConsole {
  private readonly viewers = new Set<Attached>();
  private readonly stop: () => void;

  constructor(private readonly machine: MachineControl, readonly history: SerialHistory = new SerialHistory()) {
    this.stop = machine.on('serial', (data) => this.output(data));
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Adds a viewer: it gets the history now, then everything new. Returns its input and leave functions. */
  attach(viewer: ConsoleViewer, principal: Principal): { input: (data: Buffer) => void; detach: () => void } {
    const attached: Attached = { viewer, principal };
    const past = this.history.snapshot();
    if (past.length > 0) viewer.send(past);
    this.viewers.add(attached);
    return {
      input: (data) => this.input(attached, data),
      detach: () => { this.viewers.delete(attached); },
    };
  }

  /** Closes every viewer (the agent is stopping) and stops listening to the machine. */
  close(): void {
    this.stop();
    for (const a of this.viewers) a.viewer.close(CLOSE.goingAway, 'the BMC is shutting down');
    this.viewers.clear();
  }

  private output(data: Buffer): void {
    this.history.append(data);
    for (const a of [...this.viewers]) {
      if (a.viewer.bufferedAmount > MAX_VIEWER_BACKLOG_BYTES) {
        this.viewers.delete(a);
        a.viewer.close(CLOSE.tryAgainLater, `viewer too slow: more than ${MAX_VIEWER_BACKLOG_BYTES} bytes of console output waiting; connect again`);
        continue;
      }
      a.viewer.send(data);
    }
  }

  private input(a: Attached, data: Buffer): void {
    if (!this.viewers.has(a) || data.length === 0) return;
    if (!canType(a.principal.role)) {
      this.viewers.delete(a);
      a.viewer.close(CLOSE.inputRefused, `input refused: user ${a.principal.userName} has the ReadOnly role; typing needs Operator or Administrator`);
      return;
    }
    this.machine.writeSerial(data);
  }
}
